//! The detector form: every field parsed once at the edge, the alarm configuration validated by the
//! core's rules (`DetectorConfig::new`) with each problem placed beside the field it concerns. The
//! page and the JSON API share [`parse`].

use super::FieldErrors;
use super::enterprise_form::de_text;
use crate::AppState;
use crate::auth::CurrentUser;
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::gas::gas_table::measured_kind;
use dianxiaoer_core::gas::{
    Delay, DetectorConfig, DetectorSettings, Gas, GasKind, MeasuringRange, OutOfRange, SetPoints, Tag, Unit,
};
use dianxiaoer_core::geo::LonLat;
use dianxiaoer_core::text;
use dianxiaoer_gas::spec::{self, from_milli};
use dianxiaoer_store::{DetectorInput, DetectorRow};
use serde::Deserialize;

/// The form as typed: strings only, so anything can be shown back. JSON clients may send numbers.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RawDetector {
    /// The enterprise: its id or its credit code. Blank for an enterprise user: its own.
    #[serde(deserialize_with = "de_text")]
    pub enterprise: String,
    #[serde(deserialize_with = "de_text")]
    pub tag: String,
    #[serde(deserialize_with = "de_text")]
    pub name: String,
    #[serde(deserialize_with = "de_text")]
    pub location: String,
    #[serde(deserialize_with = "de_text")]
    pub plant_area: String,
    #[serde(deserialize_with = "de_text")]
    pub lon: String,
    #[serde(deserialize_with = "de_text")]
    pub lat: String,
    #[serde(deserialize_with = "de_text")]
    pub gas: String,
    #[serde(deserialize_with = "de_text")]
    pub unit: String,
    #[serde(deserialize_with = "de_text")]
    pub range_min: String,
    #[serde(deserialize_with = "de_text")]
    pub range_max: String,
    /// Level 1, or the oxygen deficiency set-point; blank with `set_point2` for the defaults.
    #[serde(deserialize_with = "de_text")]
    pub set_point1: String,
    #[serde(deserialize_with = "de_text")]
    pub set_point2: String,
    #[serde(deserialize_with = "de_text")]
    pub deadband: String,
    #[serde(deserialize_with = "de_text")]
    pub interval_s: String,
    #[serde(deserialize_with = "de_text")]
    pub offline_after_missed: String,
    #[serde(deserialize_with = "de_text")]
    pub on_delay: String,
    /// "readings" (consecutive readings) or "seconds".
    #[serde(deserialize_with = "de_text")]
    pub on_delay_unit: String,
    #[serde(deserialize_with = "de_text")]
    pub off_delay: String,
    #[serde(deserialize_with = "de_text")]
    pub off_delay_unit: String,
    /// "clamp" or "reject".
    #[serde(deserialize_with = "de_text")]
    pub out_of_range: String,
    /// "active" or "disabled".
    #[serde(deserialize_with = "de_text")]
    pub status: String,
    /// A new device secret; blank keeps the current one.
    #[serde(deserialize_with = "de_text")]
    pub device_secret: String,
}

/// Thousandths as short decimal text: 7174 → "7.174", 25000 → "25".
pub fn milli_text(m: impl std::borrow::Borrow<i64>) -> String {
    let m = *m.borrow();
    let sign = if m < 0 { "-" } else { "" };
    let s = format!("{sign}{}.{:03}", (m / 1000).abs(), (m % 1000).abs());
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn delay_text(value: i64, unit: &str) -> (String, String) {
    match unit {
        "ms" => ((value / 1000).to_string(), "seconds".into()),
        _ => (value.to_string(), "readings".into()),
    }
}

impl RawDetector {
    /// The form of a stored detector; defaulted set-points and deadband stay blank.
    pub fn of(d: &DetectorRow, credit_code: &str) -> RawDetector {
        let s = &d.spec;
        let (on_delay, on_delay_unit) = delay_text(s.on_delay, &s.on_delay_unit);
        let (off_delay, off_delay_unit) = delay_text(s.off_delay, &s.off_delay_unit);
        let custom = |m: i64| if s.set_points_custom { milli_text(m) } else { String::new() };
        RawDetector {
            enterprise: credit_code.to_owned(),
            tag: d.tag.clone(),
            name: d.name.clone(),
            location: d.location.clone(),
            plant_area: d.plant_area.clone(),
            lon: d.lon.map(|v| format!("{v:.6}")).unwrap_or_default(),
            lat: d.lat.map(|v| format!("{v:.6}")).unwrap_or_default(),
            gas: s.gas.clone(),
            unit: s.unit.clone(),
            range_min: milli_text(s.range_min_milli),
            range_max: milli_text(s.range_max_milli),
            set_point1: custom(s.set_point1_milli),
            set_point2: custom(s.set_point2_milli),
            deadband: s.deadband_milli.map(milli_text).unwrap_or_default(),
            interval_s: s.interval_s.to_string(),
            offline_after_missed: s.offline_after_missed.to_string(),
            on_delay,
            on_delay_unit,
            off_delay,
            off_delay_unit,
            out_of_range: s.out_of_range.clone(),
            status: d.status.clone(),
            device_secret: String::new(),
        }
    }
}

/// The enterprise a form names: an id, a credit code, or (blank) the enterprise user's own. Whether
/// it is in scope is checked by the store when writing.
pub async fn resolve_enterprise(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> Result<Result<i64, String>, dianxiaoer_store::Error> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(match me.scope {
            Scope::Enterprise(id) => Ok(id),
            _ => Err("请选择企业（统一社会信用代码或编号）".into()),
        });
    }
    if let Ok(id) = t.parse::<i64>() {
        return Ok(Ok(id));
    }
    let Ok(code) = CreditCode::parse(t) else {
        return Ok(Err("企业应填统一社会信用代码或企业编号".into()));
    };
    Ok(state.store.enterprise_id_by_credit_code(&code).await?.ok_or_else(|| "该统一社会信用代码未登记".to_owned()))
}

/// A decimal number in the detector's unit; blank is `None`.
fn decimal(raw: &str, label: &str) -> Result<Option<f32>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f32>() {
        Ok(v) if v.is_finite() && v.abs() <= 1e6 => Ok(Some(v)),
        _ => Err(format!("{label}应为数字")),
    }
}

fn integer(raw: &str, label: &str, default: i64, min: i64, max: i64) -> Result<i64, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(default);
    }
    match t.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        Ok(_) => Err(format!("{label}应在 {min}～{max} 之间")),
        Err(_) => Err(format!("{label}应为整数")),
    }
}

fn delay(raw: &str, unit: &str, label: &str, default: u16) -> Result<Delay, String> {
    match unit.trim() {
        "" | "readings" => {
            let n = integer(raw, label, i64::from(default), 1, 1000)?;
            Ok(Delay::Readings(u16::try_from(n).unwrap_or(default)))
        }
        "seconds" => Ok(Delay::DurationMs(integer(raw, label, 0, 0, 86_400)? * 1000)),
        _ => Err(format!("{label}的单位应为次或秒")),
    }
}

/// The default range of a detector: 0–100 %LEL, 0–30 %VOL, 0–100 ppm or mg/m³.
fn default_max(unit: Unit) -> f32 {
    match unit {
        Unit::PercentVol => 30.0,
        _ => 100.0,
    }
}

/// Parses the form for `enterprise` (already resolved); `Err` maps field names to messages.
pub fn parse(raw: &RawDetector, enterprise: Result<i64, String>) -> Result<DetectorInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut take = |field: &'static str, r: Result<(), String>| {
        if let Err(m) = r {
            errors.entry(field).or_insert(m);
        }
    };
    take("enterprise", enterprise.as_ref().map(|_| ()).map_err(Clone::clone));
    let tag = Tag::parse(&raw.tag).map_err(|e| e.message);
    take("tag", tag.as_ref().map(|_| ()).map_err(Clone::clone));
    let name = text::required("名称", &raw.name, 60);
    take("name", name.as_ref().map(|_| ()).map_err(Clone::clone));
    let location = text::optional("安装位置", &raw.location, 100).map(Option::unwrap_or_default);
    take("location", location.as_ref().map(|_| ()).map_err(Clone::clone));
    let plant_area = text::optional("装置区域", &raw.plant_area, 60).map(Option::unwrap_or_default);
    take("plant_area", plant_area.as_ref().map(|_| ()).map_err(Clone::clone));
    let position = match (raw.lon.trim(), raw.lat.trim()) {
        ("", "") => Ok(None),
        ("", _) | (_, "") => Err("经度和纬度须同时填写".to_owned()),
        (x, y) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => LonLat::parse(x, y).map(|p| Some((p.lon(), p.lat()))).map_err(|e| e.message),
            _ => Err("经纬度应为数字（度），如 118.6421、35.7712".into()),
        },
    };
    take("lon", position.as_ref().map(|_| ()).map_err(Clone::clone));
    let gas = match raw.gas.trim() {
        "" => Err("请选择气体".to_owned()),
        g => Gas::parse(g).map_err(|e| e.message),
    };
    take("gas", gas.as_ref().map(|_| ()).map_err(Clone::clone));
    let unit = match (raw.unit.trim(), &gas) {
        ("", Ok(g)) => Ok(g.default_unit()),
        ("", Err(_)) => Err(String::new()),
        (u, _) => Unit::parse(u).map_err(|e| e.message),
    };
    if let (Ok(g), Ok(u)) = (&gas, &unit) {
        take("unit", measured_kind(*g, *u).map(|_| ()).map_err(|e| e.message));
    } else if let Err(m) = &unit
        && !m.is_empty()
    {
        take("unit", Err(m.clone()));
    }
    let min = decimal(&raw.range_min, "量程下限").map(|v| v.unwrap_or(0.0));
    take("range_min", min.as_ref().map(|_| ()).map_err(Clone::clone));
    let max = decimal(&raw.range_max, "量程上限");
    take("range_max", max.as_ref().map(|_| ()).map_err(Clone::clone));
    let range = match (&min, &max, &unit) {
        (Ok(lo), Ok(hi), Ok(u)) => {
            MeasuringRange::new(*lo, hi.unwrap_or_else(|| default_max(*u))).map_err(|e| e.message)
        }
        _ => Err(String::new()),
    };
    if let Err(m) = &range
        && !m.is_empty()
    {
        take("range_max", Err(m.clone()));
    }
    let p1 = decimal(&raw.set_point1, "报警设定值");
    let p2 = decimal(&raw.set_point2, "报警设定值");
    let set_points = match (p1, p2, &range, &gas) {
        (Err(m), _, _, _) | (_, Err(m), _, _) => Err(m),
        (Ok(None), Ok(None), _, _) => Ok(None),
        (Ok(Some(_)), Ok(None), _, _) | (Ok(None), Ok(Some(_)), _, _) => {
            Err("两个报警设定值应同时填写，或都留空使用 GB/T 50493-2019 的默认值".into())
        }
        (Ok(Some(a)), Ok(Some(b)), Ok(r), Ok(g)) if g.kind() == GasKind::Oxygen => {
            SetPoints::oxygen(a, b, r).map(Some).map_err(|e| e.message)
        }
        (Ok(Some(a)), Ok(Some(b)), Ok(r), Ok(_)) => SetPoints::rising(a, b, r).map(Some).map_err(|e| e.message),
        _ => Ok(None),
    };
    take("set_point1", set_points.as_ref().map(|_| ()).map_err(Clone::clone));
    let deadband = decimal(&raw.deadband, "回差");
    take("deadband", deadband.as_ref().map(|_| ()).map_err(Clone::clone));
    let interval = integer(&raw.interval_s, "上报周期（秒）", 30, 1, 86_400);
    take("interval_s", interval.as_ref().map(|_| ()).map_err(Clone::clone));
    let missed = integer(&raw.offline_after_missed, "离线判定漏报次数", 3, 1, 100);
    take("offline_after_missed", missed.as_ref().map(|_| ()).map_err(Clone::clone));
    let on_delay = delay(&raw.on_delay, &raw.on_delay_unit, "报警延时", 1);
    take("on_delay", on_delay.as_ref().map(|_| ()).map_err(Clone::clone));
    let off_delay = delay(&raw.off_delay, &raw.off_delay_unit, "消警延时", 3);
    take("off_delay", off_delay.as_ref().map(|_| ()).map_err(Clone::clone));
    let out_of_range = match raw.out_of_range.trim() {
        "" | "clamp" => Ok(OutOfRange::Clamp),
        "reject" => Ok(OutOfRange::Reject),
        _ => Err("超量程处理应为“按量程上下限记录”或“拒收”".to_owned()),
    };
    take("out_of_range", out_of_range.as_ref().map(|_| ()).map_err(Clone::clone));
    let status = match raw.status.trim() {
        "" | "active" => Ok("active".to_owned()),
        "disabled" => Ok("disabled".to_owned()),
        _ => Err("状态应为在用或停用".to_owned()),
    };
    take("status", status.as_ref().map(|_| ()).map_err(Clone::clone));
    let secret = match raw.device_secret.trim() {
        "" => Ok(None),
        s if (16..=128).contains(&s.chars().count()) && s.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(Some(s.to_owned()))
        }
        _ => Err("设备密钥应为 16～128 个可见 ASCII 字符".to_owned()),
    };
    take("device_secret", secret.as_ref().map(|_| ()).map_err(Clone::clone));
    let (Ok(enterprise_id), Ok(tag), Ok(name), Ok(gas), Ok(unit), Ok(range), Ok(set_points)) =
        (enterprise, tag, name, gas, unit, range, set_points)
    else {
        return Err(errors);
    };
    let (Ok(deadband), Ok(interval), Ok(missed), Ok(on_delay), Ok(off_delay), Ok(out_of_range)) =
        (deadband, interval, missed, on_delay, off_delay, out_of_range)
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    // The core checks the options together; each is tried alone first, to say which field is wrong.
    let base = DetectorSettings { set_points, ..DetectorSettings::default() };
    let trials: [(&'static str, DetectorSettings); 6] = [
        ("set_point1", base),
        ("deadband", DetectorSettings { deadband, ..base }),
        ("interval_s", DetectorSettings { interval_ms: interval * 1000, ..base }),
        ("offline_after_missed", DetectorSettings { offline_after_missed: u16::try_from(missed).unwrap_or(3), ..base }),
        ("on_delay", DetectorSettings { on_delay, ..base }),
        ("off_delay", DetectorSettings { off_delay, ..base }),
    ];
    let build = |s: &DetectorSettings| DetectorConfig::new(tag.clone(), gas, unit, range, s);
    for (field, s) in &trials {
        if let Err(e) = build(s) {
            let field = if *field == "set_point1" && set_points.is_none() { "range_max" } else { field };
            errors.insert(field, e.message);
            return Err(errors);
        }
    }
    let settings = DetectorSettings {
        deadband,
        interval_ms: interval * 1000,
        offline_after_missed: u16::try_from(missed).unwrap_or(3),
        on_delay,
        off_delay,
        out_of_range,
        ..base
    };
    let cfg = build(&settings).map_err(|e| {
        let mut errors = FieldErrors::new();
        errors.insert("set_point1", e.message);
        errors
    })?;
    Ok(DetectorInput {
        enterprise_id,
        tag: String::from(tag),
        name,
        location: location.unwrap_or_default(),
        plant_area: plant_area.unwrap_or_default(),
        position: position.unwrap_or_default(),
        spec: spec::spec(&cfg, &settings),
        status: status.unwrap_or_default(),
        device_secret: secret.unwrap_or_default(),
    })
}

/// The GB/T 50493-2019 warning for a detector's set-points, if they are less protective.
pub fn standard_warning(d: &DetectorRow) -> Option<String> {
    let cfg = spec::config(&d.tag, &d.spec).ok()?;
    cfg.set_points().standard_warning(cfg.gas(), cfg.unit())
}

/// The set-points in force as text: "一级 7.174 / 二级 14.348 ppm" or "欠氧 19.5 / 过氧 23.5 %VOL".
pub fn set_points_text(d: &DetectorRow) -> String {
    let s = &d.spec;
    let unit = Unit::parse(&s.unit).map(Unit::symbol).unwrap_or("");
    let (a, b) = if s.gas == "O2" { ("欠氧", "过氧") } else { ("一级", "二级") };
    let origin = if s.set_points_custom { "" } else { "（国标默认）" };
    format!(
        "{a} {} / {b} {} {unit}{origin}",
        trim3(from_milli(s.set_point1_milli)),
        trim3(from_milli(s.set_point2_milli))
    )
}

fn trim3(v: f32) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(gas: &str) -> RawDetector {
        RawDetector {
            tag: "GT-101".into(), name: "储罐区硫化氢".into(), gas: gas.into(), ..RawDetector::default()
        }
    }

    #[test]
    fn defaults_come_from_the_gas_table() {
        let d = parse(&raw("H2S"), Ok(1));
        let s = d.as_ref().map(|d| d.spec.clone()).ok();
        assert_eq!(
            s.as_ref().map(|s| (s.unit.as_str(), s.range_max_milli, s.set_points_custom)),
            Some(("ppm", 100_000, false))
        );
        assert_eq!(s.map(|s| (s.set_point1_milli, s.set_point2_milli)), Some((7174, 14_349)));
        let o2 = parse(&raw("O2"), Ok(1)).map(|d| (d.spec.set_point1_milli, d.spec.set_point2_milli));
        assert_eq!(o2.ok(), Some((19_500, 23_500)));
    }

    #[test]
    fn errors_sit_beside_their_field() {
        let mut r = raw("H2S");
        r.unit = "%VOL".into();
        r.tag = " bad".into();
        let e = parse(&r, Err("请选择企业（统一社会信用代码或编号）".into())).err().unwrap_or_default();
        assert_eq!(e.get("unit").map(String::as_str), Some("硫化氢不使用 %VOL 设定报警值，可燃气体请用 %LEL"));
        assert_eq!(e.get("tag").map(String::as_str), Some("位号不能包含空格或控制字符"));
        assert!(e.contains_key("enterprise"));

        let mut r = raw("EX");
        r.set_point1 = "30".into();
        let e = parse(&r, Ok(1)).err().unwrap_or_default();
        assert!(e.get("set_point1").is_some_and(|m| m.contains("同时填写")));
        r.set_point2 = "20".into();
        let e = parse(&r, Ok(1)).err().unwrap_or_default();
        assert_eq!(e.get("set_point1").map(String::as_str), Some("一级报警设定值 30 应小于二级报警设定值 20"));

        let mut r = raw("EX");
        r.range_max = "10".into();
        let e = parse(&r, Ok(1)).err().unwrap_or_default();
        assert_eq!(e.get("range_max").map(String::as_str), Some("报警设定值 25、50 应在量程 0～10 之内"));

        let mut r = raw("EX");
        r.deadband = "30".into();
        let e = parse(&r, Ok(1)).err().unwrap_or_default();
        assert!(e.get("deadband").is_some_and(|m| m.starts_with("回差 30 过大")), "{e:?}");

        let mut r = raw("EX");
        r.interval_s = "0".into();
        r.range_min = "NaN".into();
        let e = parse(&r, Ok(1)).err().unwrap_or_default();
        assert_eq!(e.get("interval_s").map(String::as_str), Some("上报周期（秒）应在 1～86400 之间"));
        assert_eq!(e.get("range_min").map(String::as_str), Some("量程下限应为数字"));
    }

    #[test]
    fn custom_set_points_and_delays_are_kept() {
        let mut r = raw("EX");
        r.set_point1 = "20".into();
        r.set_point2 = "40".into();
        r.on_delay = "10".into();
        r.on_delay_unit = "seconds".into();
        let s = parse(&r, Ok(1)).map(|d| d.spec).ok();
        assert_eq!(
            s.as_ref().map(|s| (s.set_point1_milli, s.set_point2_milli, s.set_points_custom)),
            Some((20_000, 40_000, true))
        );
        assert_eq!(s.map(|s| (s.on_delay, s.on_delay_unit)), Some((10_000, "ms".to_owned())));
    }

    #[test]
    fn milli_text_is_short() {
        assert_eq!(milli_text(7174), "7.174");
        assert_eq!(milli_text(25_000), "25");
        assert_eq!(milli_text(-500), "-0.5");
        assert_eq!(milli_text(0), "0");
    }
}
