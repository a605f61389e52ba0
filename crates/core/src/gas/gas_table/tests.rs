use super::*;

fn range(min: f32, max: f32) -> MeasuringRange {
    MeasuringRange::new(min, max).unwrap_or(MeasuringRange { min: 0.0, max: 1.0 })
}

fn rising(sp: &Result<SetPoints, GasError>) -> Option<(f32, f32)> {
    match sp.as_ref().ok()?.thresholds() {
        Thresholds::Rising { level1, level2 } => Some((level1, level2)),
        Thresholds::Oxygen { .. } => None,
    }
}

fn message<T>(r: Result<T, GasError>) -> String {
    r.err().map(|e| e.message).unwrap_or_default()
}

#[test]
fn combustible_defaults_are_25_and_50_percent_lel() {
    let sp = SetPoints::default_for(Gas::Methane, Unit::PercentLel, &range(0.0, 100.0));
    assert_eq!(rising(&sp), Some((25.0, 50.0)));
    // Benzene read in %LEL is watched as a combustible gas.
    let sp = SetPoints::default_for(Gas::Benzene, Unit::PercentLel, &range(0.0, 100.0));
    assert_eq!(rising(&sp), Some((25.0, 50.0)));
}

#[test]
fn oxygen_defaults_are_19_5_and_23_5_percent_vol() {
    let sp = SetPoints::default_for(Gas::Oxygen, Unit::PercentVol, &range(0.0, 30.0));
    assert_eq!(sp.map(|s| s.thresholds()), Ok(Thresholds::Oxygen { low: 19.5, high: 23.5 }));
}

#[test]
fn toxic_defaults_match_the_reference_table() {
    // (gas, 1st mg/m³, 2nd mg/m³, ≈ppm 1st, ≈ppm 2nd) from shared/reference/gas.md.
    let table = [
        (Gas::HydrogenSulfide, 10.0, 20.0, "7.2", "14.3"),
        (Gas::CarbonMonoxide, 20.0, 40.0, "17.5", "34.9"),
        (Gas::Ammonia, 20.0, 40.0, "28.7", "57.4"),
        (Gas::Chlorine, 1.0, 2.0, "0.34", "0.69"),
        (Gas::HydrogenCyanide, 1.0, 2.0, "0.90", "1.8"),
        (Gas::Benzene, 6.0, 12.0, "1.9", "3.8"),
        (Gas::Methanol, 25.0, 50.0, "19", "38"),
        (Gas::SulfurDioxide, 5.0, 10.0, "1.9", "3.8"),
        (Gas::NitrogenDioxide, 5.0, 10.0, "2.7", "5.3"),
    ];
    // The computed ppm, rounded to as many decimals as the reference shows, is what it shows.
    let rounds_to = |got: f32, shown: &str| {
        let decimals = shown.split_once('.').map_or(0, |(_, d)| d.len());
        format!("{got:.decimals$}") == shown
    };
    for (gas, mg1, mg2, ppm1, ppm2) in table {
        let mg = rising(&SetPoints::default_for(gas, Unit::MgPerM3, &range(0.0, 1000.0)));
        assert_eq!(mg, Some((mg1, mg2)), "{gas}");
        let ppm = rising(&SetPoints::default_for(gas, Unit::Ppm, &range(0.0, 1000.0)));
        let (p1, p2) = ppm.unwrap_or_default();
        assert!(rounds_to(p1, ppm1) && rounds_to(p2, ppm2), "{gas}: {p1} {p2}");
        let defaults = SetPoints::default_for(gas, Unit::Ppm, &range(0.0, 1000.0)).ok();
        assert_eq!(defaults.and_then(|s| s.standard_warning(gas, Unit::Ppm)), None, "{gas}");
    }
}

#[test]
fn idlh_alternative_is_5_and_10_percent() {
    let sp = SetPoints::from_idlh(Gas::HydrogenSulfide, Unit::MgPerM3, &range(0.0, 100.0));
    let (l1, l2) = rising(&sp).unwrap_or_default();
    assert!((l1 - 21.5).abs() < 1e-3 && (l2 - 43.0).abs() < 1e-3);
    let warning = sp.ok().and_then(|s| s.standard_warning(Gas::HydrogenSulfide, Unit::MgPerM3));
    assert!(warning.is_some_and(|w| w.contains("只有探测器量程不能满足时才允许")));
    assert!(SetPoints::from_idlh(Gas::Methane, Unit::PercentLel, &range(0.0, 100.0)).is_err());
}

#[test]
fn set_points_are_validated_with_chinese_messages() {
    let r = range(0.0, 100.0);
    assert_eq!(message(SetPoints::rising(50.0, 25.0, &r)), "一级报警设定值 50 应小于二级报警设定值 25");
    assert_eq!(message(SetPoints::rising(25.0, 25.0, &r)), "一级报警设定值 25 应小于二级报警设定值 25");
    assert_eq!(message(SetPoints::rising(f32::NAN, 25.0, &r)), "报警设定值必须是有效数字");
    assert_eq!(message(SetPoints::rising(25.0, 150.0, &r)), "报警设定值 25、150 应在量程 0～100 之内");
    assert_eq!(message(SetPoints::rising(0.0, 50.0, &r)), "报警设定值 0、50 应在量程 0～100 之内");
    assert!(SetPoints::rising(25.0, 100.0, &r).is_ok());
    let o2 = range(0.0, 25.0);
    assert_eq!(message(SetPoints::oxygen(23.5, 19.5, &o2)), "欠氧报警设定值 23.5 应小于过氧报警设定值 19.5");
    assert_eq!(message(SetPoints::oxygen(19.5, 30.0, &o2)), "氧气报警设定值 19.5、30 应在量程 0～25 之内");
    // The defaults must fit the detector's range too.
    assert!(SetPoints::default_for(Gas::Oxygen, Unit::PercentVol, &range(0.0, 20.0)).is_err());
    assert_eq!(message(MeasuringRange::new(10.0, 0.0)), "量程下限 10 应小于上限 0");
    assert_eq!(message(MeasuringRange::new(0.0, f32::INFINITY)), "量程必须是有效数字");
}

#[test]
fn unit_must_suit_the_gas() {
    assert_eq!(measured_kind(Gas::CarbonMonoxide, Unit::Ppm).ok(), Some(GasKind::Toxic));
    assert_eq!(measured_kind(Gas::CarbonMonoxide, Unit::PercentLel).ok(), Some(GasKind::Combustible));
    assert_eq!(message(measured_kind(Gas::Chlorine, Unit::PercentLel)), "氯气不是可燃气体，不能用 %LEL");
    assert_eq!(message(measured_kind(Gas::Oxygen, Unit::Ppm)), "氧气探测器的单位应为 %VOL");
    assert!(message(measured_kind(Gas::Methane, Unit::Ppm)).contains("没有甲烷的职业接触限值"));
    assert!(measured_kind(Gas::Methane, Unit::PercentVol).is_err());
    for gas in Gas::ALL {
        assert!(measured_kind(gas, gas.default_unit()).is_ok(), "{gas}");
    }
}

#[test]
fn standard_warnings_flag_less_protective_overrides() {
    let r = range(0.0, 100.0);
    let lax = SetPoints::rising(30.0, 50.0, &r).ok();
    let warning = lax.and_then(|s| s.standard_warning(Gas::Methane, Unit::PercentLel));
    assert_eq!(warning.as_deref(), Some("一级报警设定值 30%LEL 高于 GB/T 50493-2019 的上限 25%LEL"));
    let strict = SetPoints::rising(10.0, 20.0, &r).ok();
    assert_eq!(strict.and_then(|s| s.standard_warning(Gas::Methane, Unit::PercentLel)), None);
    let toxic = SetPoints::rising(30.0, 60.0, &r).ok();
    let warning = toxic.and_then(|s| s.standard_warning(Gas::HydrogenSulfide, Unit::Ppm));
    assert!(warning.is_some_and(|w| w.contains("高于 GB/T 50493-2019 的上限")));
    let wide = SetPoints::oxygen(18.0, 23.5, &range(0.0, 25.0)).ok();
    assert!(wide.and_then(|s| s.standard_warning(Gas::Oxygen, Unit::PercentVol)).is_some());
    let mismatch = SetPoints::oxygen(18.0, 23.5, &range(0.0, 25.0)).ok();
    assert!(mismatch.and_then(|s| s.standard_warning(Gas::Methane, Unit::PercentLel)).is_some());
}

#[test]
fn codes_units_and_names_parse() {
    for gas in Gas::ALL {
        assert_eq!(Gas::parse(gas.code()).ok(), Some(gas));
        assert_eq!(Gas::parse(gas.label()).ok(), Some(gas));
        assert_eq!(Gas::parse(&gas.code().to_ascii_lowercase()).ok(), Some(gas));
    }
    assert_eq!(message(Gas::parse("XYZ")), "气体表中没有“XYZ”");
    for unit in Unit::ALL {
        assert_eq!(Unit::parse(unit.symbol()).ok(), Some(unit));
    }
    assert_eq!(Unit::parse("mg/m3").ok(), Some(Unit::MgPerM3));
    assert_eq!(Unit::parse("%lel").ok(), Some(Unit::PercentLel));
    assert_eq!(message(Unit::parse("ppb")), "不支持的单位“ppb”，可用：ppm、mg/m³、%LEL、%VOL");
    assert_eq!(serde_json::to_string(&Gas::HydrogenSulfide).ok().as_deref(), Some("\"H2S\""));
    assert_eq!(serde_json::to_string(&Unit::PercentLel).ok().as_deref(), Some("\"%LEL\""));
}

#[test]
fn deserialising_validates() {
    let range: Result<MeasuringRange, _> = serde_json::from_str(r#"{"min": 0, "max": 100}"#);
    assert_eq!(range.ok(), MeasuringRange::new(0.0, 100.0).ok());
    assert!(serde_json::from_str::<MeasuringRange>(r#"{"min": 100, "max": 0}"#).is_err());
    let sp: Result<SetPoints, _> = serde_json::from_str(r#"{"shape": "rising", "level1": 25, "level2": 50}"#);
    assert_eq!(sp.ok().map(|s| s.thresholds()), Some(Thresholds::Rising { level1: 25.0, level2: 50.0 }));
    assert!(serde_json::from_str::<SetPoints>(r#"{"shape": "rising", "level1": 50, "level2": 25}"#).is_err());
    assert!(serde_json::from_str::<SetPoints>(r#"{"shape": "oxygen", "low": 23.5, "high": 19.5}"#).is_err());
}
