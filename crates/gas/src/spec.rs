//! A detector's stored configuration ([`DetectorSpec`], integers in thousandths) and the core's
//! validated [`DetectorConfig`], both ways. The web layer builds a spec from a validated config, the
//! engine a config from a stored spec, so both go through the same core validation.

use dianxiaoer_core::gas::{
    Delay, DetectorConfig, DetectorSettings, Gas, GasError, MeasuringRange, OutOfRange, SetPoints, Tag, Thresholds,
    Unit,
};
use dianxiaoer_store::DetectorSpec;

/// A value in the detector's unit as stored thousandths. Values are bounded by the detector's f32
/// range, so the conversion only rounds.
pub fn to_milli(v: f32) -> i64 {
    (f64::from(v) * 1000.0).round() as i64
}

/// Stored thousandths back to the detector's unit.
pub fn from_milli(m: i64) -> f32 {
    (m as f64 / 1000.0) as f32
}

/// The stored code of a unit (what [`Unit::parse`] reads back).
pub fn unit_code(u: Unit) -> &'static str {
    match u {
        Unit::Ppm => "ppm",
        Unit::MgPerM3 => "mg/m3",
        Unit::PercentLel => "%LEL",
        Unit::PercentVol => "%VOL",
    }
}

fn delay_of(value: i64, unit: &str) -> Result<Delay, GasError> {
    match unit {
        "readings" => u16::try_from(value).map(Delay::Readings).map_err(|_| err("连续读数次数应在 1～1000 之间")),
        "ms" => Ok(Delay::DurationMs(value)),
        other => Err(err(&format!("未知的延时单位“{other}”"))),
    }
}

fn delay_parts(d: Delay) -> (i64, String) {
    match d {
        Delay::Readings(n) => (i64::from(n), "readings".into()),
        Delay::DurationMs(ms) => (ms, "ms".into()),
    }
}

fn err(message: &str) -> GasError {
    // GasError's constructor is private to the core; its fields are public.
    GasError { message: message.to_owned() }
}

/// The parts of a stored spec the core takes, before validation.
pub struct Parts {
    pub gas: Gas,
    pub unit: Unit,
    pub range: MeasuringRange,
    pub settings: DetectorSettings,
}

/// Reads a stored spec into the core's types.
pub fn parts(spec: &DetectorSpec) -> Result<Parts, GasError> {
    let gas = Gas::parse(&spec.gas)?;
    let unit = Unit::parse(&spec.unit)?;
    let range = MeasuringRange::new(from_milli(spec.range_min_milli), from_milli(spec.range_max_milli))?;
    let (p1, p2) = (from_milli(spec.set_point1_milli), from_milli(spec.set_point2_milli));
    let set_points = match (spec.set_points_custom, gas == Gas::Oxygen) {
        (false, _) => None,
        (true, true) => Some(SetPoints::oxygen(p1, p2, &range)?),
        (true, false) => Some(SetPoints::rising(p1, p2, &range)?),
    };
    let interval_ms = spec.interval_s.checked_mul(1000).ok_or_else(|| err("上报周期过长"))?;
    let settings = DetectorSettings {
        set_points,
        on_delay: delay_of(spec.on_delay, &spec.on_delay_unit)?,
        off_delay: delay_of(spec.off_delay, &spec.off_delay_unit)?,
        deadband: spec.deadband_milli.map(from_milli),
        interval_ms,
        offline_after_missed: u16::try_from(spec.offline_after_missed)
            .map_err(|_| err("离线判定的漏报次数应在 1～100 之间"))?,
        out_of_range: match spec.out_of_range.as_str() {
            "reject" => OutOfRange::Reject,
            _ => OutOfRange::Clamp,
        },
        ..DetectorSettings::default()
    };
    Ok(Parts { gas, unit, range, settings })
}

/// The validated configuration of a stored detector.
pub fn config(tag: &str, spec: &DetectorSpec) -> Result<DetectorConfig, GasError> {
    let p = parts(spec)?;
    DetectorConfig::new(Tag::parse(tag)?, p.gas, p.unit, p.range, &p.settings)
}

/// The spec to store for a validated configuration and the settings it was built from (which say
/// what was defaulted: set-points and deadband).
pub fn spec(cfg: &DetectorConfig, settings: &DetectorSettings) -> DetectorSpec {
    let (p1, p2) = match cfg.set_points().thresholds() {
        Thresholds::Rising { level1, level2 } => (level1, level2),
        Thresholds::Oxygen { low, high } => (low, high),
    };
    let (on_delay, on_delay_unit) = delay_parts(cfg.on_delay());
    let (off_delay, off_delay_unit) = delay_parts(cfg.off_delay());
    DetectorSpec {
        gas: cfg.gas().code().to_owned(),
        unit: unit_code(cfg.unit()).to_owned(),
        range_min_milli: to_milli(cfg.range().min()),
        range_max_milli: to_milli(cfg.range().max()),
        set_points_custom: settings.set_points.is_some(),
        set_point1_milli: to_milli(p1),
        set_point2_milli: to_milli(p2),
        deadband_milli: settings.deadband.map(to_milli),
        interval_s: cfg.interval_ms() / 1000,
        offline_after_missed: i64::from(cfg.offline_after_missed()),
        on_delay,
        on_delay_unit,
        off_delay,
        off_delay_unit,
        out_of_range: match cfg.out_of_range() {
            OutOfRange::Clamp => "clamp".into(),
            OutOfRange::Reject => "reject".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(gas: Gas, unit: Unit, max: f32, settings: &DetectorSettings) -> Result<DetectorConfig, GasError> {
        DetectorConfig::new(Tag::parse("GT-101")?, gas, unit, MeasuringRange::new(0.0, max)?, settings)
    }

    #[test]
    fn defaults_round_trip_through_the_stored_form() {
        for (gas, unit, max) in [
            (Gas::HydrogenSulfide, Unit::Ppm, 100.0),
            (Gas::Methane, Unit::PercentLel, 100.0),
            (Gas::Oxygen, Unit::PercentVol, 25.0),
        ] {
            let settings = DetectorSettings::default();
            let Ok(cfg) = build(gas, unit, max, &settings) else { unreachable!("{gas:?}") };
            let stored = spec(&cfg, &settings);
            assert_eq!(config("GT-101", &stored), Ok(cfg), "{gas:?}");
            assert!(!stored.set_points_custom);
        }
    }

    #[test]
    fn overrides_are_kept_in_thousandths() {
        let range = MeasuringRange::new(0.0, 100.0);
        let sp = range.and_then(|r| SetPoints::rising(5.125, 10.5, &r)).ok();
        let settings = DetectorSettings {
            set_points: sp,
            deadband: Some(0.5),
            on_delay: Delay::DurationMs(10_000),
            interval_ms: 10_000,
            ..DetectorSettings::default()
        };
        let cfg = build(Gas::HydrogenSulfide, Unit::Ppm, 100.0, &settings);
        let stored = cfg.as_ref().map(|c| spec(c, &settings));
        let s = stored.as_ref().ok();
        assert_eq!(
            s.map(|s| (s.set_point1_milli, s.set_point2_milli, s.deadband_milli)),
            Some((5125, 10_500, Some(500)))
        );
        assert_eq!(s.map(|s| (s.on_delay, s.on_delay_unit.as_str(), s.interval_s)), Some((10_000, "ms", 10)));
        let back = s.map(|s| config("GT-101", s));
        assert_eq!(back, Some(cfg));
    }

    #[test]
    fn a_corrupt_spec_is_an_error_not_a_panic() {
        let settings = DetectorSettings::default();
        let Ok(cfg) = build(Gas::Methane, Unit::PercentLel, 100.0, &settings) else { return };
        let mut s = spec(&cfg, &settings);
        s.gas = "XX".into();
        assert!(config("GT-101", &s).is_err());
        let mut s = spec(&cfg, &settings);
        s.on_delay_unit = "weeks".into();
        assert!(config("GT-101", &s).is_err());
        let mut s = spec(&cfg, &settings);
        s.offline_after_missed = -1;
        assert!(config("GT-101", &s).is_err());
    }

    #[test]
    fn milli_conversion_rounds() {
        assert_eq!(to_milli(7.174_4), 7174);
        assert_eq!(to_milli(-0.000_6), -1);
        assert!((from_milli(19_500) - 19.5).abs() < 1e-6);
    }
}
