//! The gas table: which gases a detector may measure, in which unit, and the default alarm set-points
//! of GB/T 50493-2019 §5.5 (石油化工可燃气体和有毒气体检测报警设计标准).
//!
//! - combustible gas, in %LEL: level 1 at 25 %LEL, level 2 at 50 %LEL;
//! - toxic gas, in mg/m³ or ppm: level 1 at 100 % OEL, level 2 at 200 % OEL, where OEL is the GBZ 2.1
//!   MAC if the gas has one, else its PC-TWA (the reference table, `shared/reference/gas.md`). When the
//!   detector's range cannot resolve that, 5 % and 10 % IDLH ([`SetPoints::from_idlh`]);
//! - oxygen, in %VOL: deficiency at 19.5 %VOL, enrichment at 23.5 %VOL.
//!
//! Which rule applies follows from the unit, not only from the gas: CO, H₂S or benzene are toxic when
//! read in ppm and combustible when read in %LEL ([`measured_kind`]). Open-path detectors (LEL·m) are
//! not modelled. The standard gives upper bounds; a detector may override its set-points, and
//! [`SetPoints::standard_warning`] says when an override is less protective than the standard.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::GasError;

/// The set of alarm rules a reading falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GasKind {
    /// 可燃气体, read in %LEL, alarms on a rising value at two levels.
    Combustible,
    /// 有毒气体, read in ppm or mg/m³, alarms on a rising value at two levels.
    Toxic,
    /// 氧气, read in %VOL, alarms on deficiency and on enrichment.
    Oxygen,
}

impl GasKind {
    pub fn label(self) -> &'static str {
        match self {
            GasKind::Combustible => "可燃气体",
            GasKind::Toxic => "有毒气体",
            GasKind::Oxygen => "氧气",
        }
    }
}

/// The unit a detector reports in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    #[serde(rename = "ppm")]
    Ppm,
    #[serde(rename = "mg/m3")]
    MgPerM3,
    #[serde(rename = "%LEL")]
    PercentLel,
    #[serde(rename = "%VOL")]
    PercentVol,
}

impl Unit {
    pub const ALL: [Unit; 4] = [Unit::Ppm, Unit::MgPerM3, Unit::PercentLel, Unit::PercentVol];

    /// As shown to users.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Ppm => "ppm",
            Unit::MgPerM3 => "mg/m³",
            Unit::PercentLel => "%LEL",
            Unit::PercentVol => "%VOL",
        }
    }

    /// Accepts the symbol in any ASCII case, "mg/m3" for "mg/m³", and "%V/V" for "%VOL".
    pub fn parse(raw: &str) -> Result<Unit, GasError> {
        let s = raw.trim().to_ascii_lowercase();
        match s.as_str() {
            "ppm" => Ok(Unit::Ppm),
            "mg/m3" | "mg/m³" => Ok(Unit::MgPerM3),
            "%lel" | "lel" => Ok(Unit::PercentLel),
            "%vol" | "vol" | "%v/v" => Ok(Unit::PercentVol),
            _ => Err(GasError::new(format!("不支持的单位“{}”，可用：ppm、mg/m³、%LEL、%VOL", raw.trim()))),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A gas of the table. Serialised as its code ("H2S").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gas {
    /// Any combustible gas, calibrated to the plant's reference gas.
    #[serde(rename = "EX")]
    Combustible,
    #[serde(rename = "CH4")]
    Methane,
    #[serde(rename = "C3H8")]
    Propane,
    #[serde(rename = "H2")]
    Hydrogen,
    #[serde(rename = "H2S")]
    HydrogenSulfide,
    #[serde(rename = "CO")]
    CarbonMonoxide,
    #[serde(rename = "NH3")]
    Ammonia,
    #[serde(rename = "Cl2")]
    Chlorine,
    #[serde(rename = "HCN")]
    HydrogenCyanide,
    #[serde(rename = "C6H6")]
    Benzene,
    #[serde(rename = "CH3OH")]
    Methanol,
    #[serde(rename = "SO2")]
    SulfurDioxide,
    #[serde(rename = "NO2")]
    NitrogenDioxide,
    #[serde(rename = "O2")]
    Oxygen,
}

/// GBZ 2.1 occupational exposure limits and IDLH, in mg/m³, as in the reference table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExposureLimits {
    /// 最高容许浓度 (MAC).
    pub mac: Option<f32>,
    /// 时间加权平均容许浓度 (PC-TWA).
    pub pc_twa: Option<f32>,
    /// 短时间接触容许浓度 (PC-STEL).
    pub pc_stel: Option<f32>,
    /// Immediately dangerous to life or health.
    pub idlh: f32,
    /// g/mol, to convert mg/m³ to ppm.
    pub molar_mass: f32,
}

impl ExposureLimits {
    /// The OEL that GB/T 50493-2019 §5.5 sets toxic alarms from: MAC where one exists, else PC-TWA.
    pub fn oel(&self) -> Option<f32> {
        self.mac.or(self.pc_twa)
    }
}

/// Molar volume at 25 °C and 101.325 kPa, L/mol: ppm = mg/m³ × 24.45 / M.
pub const MOLAR_VOLUME_25C: f32 = 24.45;

const fn limits(mac: Option<f32>, twa: Option<f32>, stel: Option<f32>, idlh: f32, m: f32) -> Option<ExposureLimits> {
    Some(ExposureLimits { mac, pc_twa: twa, pc_stel: stel, idlh, molar_mass: m })
}

impl Gas {
    pub const ALL: [Gas; 14] = [
        Gas::Combustible,
        Gas::Methane,
        Gas::Propane,
        Gas::Hydrogen,
        Gas::HydrogenSulfide,
        Gas::CarbonMonoxide,
        Gas::Ammonia,
        Gas::Chlorine,
        Gas::HydrogenCyanide,
        Gas::Benzene,
        Gas::Methanol,
        Gas::SulfurDioxide,
        Gas::NitrogenDioxide,
        Gas::Oxygen,
    ];

    /// The chemical formula, or "EX" for a generic combustible-gas detector.
    pub fn code(self) -> &'static str {
        match self {
            Gas::Combustible => "EX",
            Gas::Methane => "CH4",
            Gas::Propane => "C3H8",
            Gas::Hydrogen => "H2",
            Gas::HydrogenSulfide => "H2S",
            Gas::CarbonMonoxide => "CO",
            Gas::Ammonia => "NH3",
            Gas::Chlorine => "Cl2",
            Gas::HydrogenCyanide => "HCN",
            Gas::Benzene => "C6H6",
            Gas::Methanol => "CH3OH",
            Gas::SulfurDioxide => "SO2",
            Gas::NitrogenDioxide => "NO2",
            Gas::Oxygen => "O2",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Gas::Combustible => "可燃气体",
            Gas::Methane => "甲烷",
            Gas::Propane => "丙烷",
            Gas::Hydrogen => "氢气",
            Gas::HydrogenSulfide => "硫化氢",
            Gas::CarbonMonoxide => "一氧化碳",
            Gas::Ammonia => "氨",
            Gas::Chlorine => "氯气",
            Gas::HydrogenCyanide => "氰化氢",
            Gas::Benzene => "苯",
            Gas::Methanol => "甲醇",
            Gas::SulfurDioxide => "二氧化硫",
            Gas::NitrogenDioxide => "二氧化氮",
            Gas::Oxygen => "氧气",
        }
    }

    /// The code in any ASCII case ("h2s", "CL2") or the Chinese name.
    pub fn parse(raw: &str) -> Result<Gas, GasError> {
        let s = raw.trim();
        Gas::ALL
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(s) || g.label() == s)
            .ok_or_else(|| GasError::new(format!("气体表中没有“{s}”")))
    }

    /// The kind the gas is usually monitored for, and so its default unit.
    pub fn kind(self) -> GasKind {
        match self {
            Gas::Combustible | Gas::Methane | Gas::Propane | Gas::Hydrogen => GasKind::Combustible,
            Gas::Oxygen => GasKind::Oxygen,
            _ => GasKind::Toxic,
        }
    }

    pub fn default_unit(self) -> Unit {
        match self.kind() {
            GasKind::Combustible => Unit::PercentLel,
            GasKind::Toxic => Unit::Ppm,
            GasKind::Oxygen => Unit::PercentVol,
        }
    }

    /// Whether the gas has a lower explosive limit, so that a %LEL detector makes sense for it.
    pub fn flammable(self) -> bool {
        !matches!(self, Gas::Chlorine | Gas::SulfurDioxide | Gas::NitrogenDioxide | Gas::Oxygen)
    }

    /// The reference table's limits (GBZ 2.1 via `shared/reference/gas.md`); `None` if not toxic.
    pub fn exposure_limits(self) -> Option<ExposureLimits> {
        match self {
            Gas::HydrogenSulfide => limits(Some(10.0), None, None, 430.0, 34.08),
            Gas::CarbonMonoxide => limits(None, Some(20.0), Some(30.0), 1700.0, 28.01),
            Gas::Ammonia => limits(None, Some(20.0), Some(30.0), 360.0, 17.03),
            Gas::Chlorine => limits(Some(1.0), None, None, 88.0, 70.90),
            Gas::HydrogenCyanide => limits(Some(1.0), None, None, 56.0, 27.03),
            Gas::Benzene => limits(None, Some(6.0), Some(10.0), 9800.0, 78.11),
            Gas::Methanol => limits(None, Some(25.0), Some(50.0), 33000.0, 32.04),
            Gas::SulfurDioxide => limits(None, Some(5.0), Some(10.0), 270.0, 64.07),
            Gas::NitrogenDioxide => limits(None, Some(5.0), Some(10.0), 96.0, 46.01),
            _ => None,
        }
    }

    /// Converts a concentration in mg/m³ to `unit` (ppm at 25 °C, or mg/m³ unchanged).
    fn mg_per_m3_in(self, mg: f32, unit: Unit) -> Option<f32> {
        match unit {
            Unit::MgPerM3 => Some(mg),
            Unit::Ppm => self.exposure_limits().map(|l| mg * MOLAR_VOLUME_25C / l.molar_mass),
            Unit::PercentLel | Unit::PercentVol => None,
        }
    }
}

impl fmt::Display for Gas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}（{}）", self.label(), self.code())
    }
}

/// Which rules a detector of `gas` reading in `unit` falls under, or why the pair makes no sense.
pub fn measured_kind(gas: Gas, unit: Unit) -> Result<GasKind, GasError> {
    let label = gas.label();
    match (gas, unit) {
        (Gas::Oxygen, Unit::PercentVol) => Ok(GasKind::Oxygen),
        (Gas::Oxygen, _) => Err(GasError::new("氧气探测器的单位应为 %VOL")),
        (_, Unit::PercentVol) => Err(GasError::new(format!("{label}不使用 %VOL 设定报警值，可燃气体请用 %LEL"))),
        (_, Unit::PercentLel) if gas.flammable() => Ok(GasKind::Combustible),
        (_, Unit::PercentLel) => Err(GasError::new(format!("{label}不是可燃气体，不能用 %LEL"))),
        (_, Unit::Ppm | Unit::MgPerM3) if gas.exposure_limits().is_some() => Ok(GasKind::Toxic),
        (_, Unit::Ppm | Unit::MgPerM3) => {
            Err(GasError::new(format!("气体表中没有{label}的职业接触限值，不能按 {unit} 报警，请用 %LEL")))
        }
    }
}

/// 量程: the span a detector measures, in its unit. Deserialising validates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRange")]
pub struct MeasuringRange {
    min: f32,
    max: f32,
}

#[derive(Deserialize)]
struct RawRange {
    min: f32,
    max: f32,
}

impl TryFrom<RawRange> for MeasuringRange {
    type Error = GasError;
    fn try_from(raw: RawRange) -> Result<MeasuringRange, GasError> {
        MeasuringRange::new(raw.min, raw.max)
    }
}

impl MeasuringRange {
    pub fn new(min: f32, max: f32) -> Result<MeasuringRange, GasError> {
        if !min.is_finite() || !max.is_finite() {
            return Err(GasError::new("量程必须是有效数字"));
        }
        if min >= max {
            return Err(GasError::new(format!("量程下限 {min} 应小于上限 {max}")));
        }
        Ok(MeasuringRange { min, max })
    }

    pub fn min(&self) -> f32 {
        self.min
    }

    pub fn max(&self) -> f32 {
        self.max
    }

    pub fn span(&self) -> f32 {
        self.max - self.min
    }
}

/// Validated alarm set-points of one detector, in the detector's unit. Deserialising checks the order
/// of the values; the range is checked again when a [`super::DetectorConfig`] is built.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Thresholds", into = "Thresholds")]
pub struct SetPoints(Thresholds);

impl TryFrom<Thresholds> for SetPoints {
    type Error = GasError;
    fn try_from(t: Thresholds) -> Result<SetPoints, GasError> {
        let widest = MeasuringRange { min: f32::MIN, max: f32::MAX };
        match t {
            Thresholds::Rising { level1, level2 } => SetPoints::rising(level1, level2, &widest),
            Thresholds::Oxygen { low, high } => SetPoints::oxygen(low, high, &widest),
        }
    }
}

impl From<SetPoints> for Thresholds {
    fn from(sp: SetPoints) -> Thresholds {
        sp.0
    }
}

/// A read-only view of [`SetPoints`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Thresholds {
    /// Combustible and toxic gas: alarm when the value reaches a level (一级, 二级).
    Rising { level1: f32, level2: f32 },
    /// Oxygen: alarm when the value falls to `low` (欠氧) or reaches `high` (过氧).
    Oxygen { low: f32, high: f32 },
}

/// Relative tolerance when comparing overrides with computed limits, so that a default converted to
/// ppm in f32 is not reported as exceeding itself.
const TOLERANCE: f32 = 1e-4;

impl SetPoints {
    /// Level 1 and level 2 of a rising alarm: finite, level 1 < level 2, both inside the range
    /// (min < level 1, level 2 ≤ max: a reading clamped to full scale still reaches level 2).
    pub fn rising(level1: f32, level2: f32, range: &MeasuringRange) -> Result<SetPoints, GasError> {
        if !level1.is_finite() || !level2.is_finite() {
            return Err(GasError::new("报警设定值必须是有效数字"));
        }
        if level1 >= level2 {
            return Err(GasError::new(format!("一级报警设定值 {level1} 应小于二级报警设定值 {level2}")));
        }
        if level1 <= range.min || level2 > range.max {
            return Err(GasError::new(format!(
                "报警设定值 {level1}、{level2} 应在量程 {}～{} 之内",
                range.min, range.max
            )));
        }
        Ok(SetPoints(Thresholds::Rising { level1, level2 }))
    }

    /// Oxygen deficiency and enrichment set-points: finite, low < high, both inside the range.
    pub fn oxygen(low: f32, high: f32, range: &MeasuringRange) -> Result<SetPoints, GasError> {
        if !low.is_finite() || !high.is_finite() {
            return Err(GasError::new("报警设定值必须是有效数字"));
        }
        if low >= high {
            return Err(GasError::new(format!("欠氧报警设定值 {low} 应小于过氧报警设定值 {high}")));
        }
        if low <= range.min || high > range.max {
            return Err(GasError::new(format!(
                "氧气报警设定值 {low}、{high} 应在量程 {}～{} 之内",
                range.min, range.max
            )));
        }
        Ok(SetPoints(Thresholds::Oxygen { low, high }))
    }

    /// The GB/T 50493-2019 §5.5 defaults for a detector of `gas` reading in `unit`.
    pub fn default_for(gas: Gas, unit: Unit, range: &MeasuringRange) -> Result<SetPoints, GasError> {
        match measured_kind(gas, unit)? {
            GasKind::Combustible => SetPoints::rising(25.0, 50.0, range),
            GasKind::Oxygen => SetPoints::oxygen(19.5, 23.5, range),
            GasKind::Toxic => {
                let oel = gas.exposure_limits().and_then(|l| l.oel());
                let level1 = oel.and_then(|mg| gas.mg_per_m3_in(mg, unit));
                let level2 = oel.and_then(|mg| gas.mg_per_m3_in(2.0 * mg, unit));
                match (level1, level2) {
                    (Some(l1), Some(l2)) => SetPoints::rising(l1, l2, range),
                    _ => Err(GasError::new(format!("气体表中没有{}的职业接触限值", gas.label()))),
                }
            }
        }
    }

    /// The alternative GB/T 50493-2019 §5.5 allows for toxic gas when the detector's range cannot meet
    /// 100 % / 200 % OEL: level 1 at 5 % IDLH, level 2 at 10 % IDLH.
    pub fn from_idlh(gas: Gas, unit: Unit, range: &MeasuringRange) -> Result<SetPoints, GasError> {
        if measured_kind(gas, unit)? != GasKind::Toxic {
            return Err(GasError::new("按 IDLH 设定报警值只适用于有毒气体（ppm 或 mg/m³）"));
        }
        let idlh = gas.exposure_limits().map(|l| l.idlh);
        let level1 = idlh.and_then(|mg| gas.mg_per_m3_in(0.05 * mg, unit));
        let level2 = idlh.and_then(|mg| gas.mg_per_m3_in(0.10 * mg, unit));
        match (level1, level2) {
            (Some(l1), Some(l2)) => SetPoints::rising(l1, l2, range),
            _ => Err(GasError::new(format!("气体表中没有{}的 IDLH", gas.label()))),
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        self.0
    }

    pub fn is_oxygen(&self) -> bool {
        matches!(self.0, Thresholds::Oxygen { .. })
    }

    /// Whether these set-points are less protective than GB/T 50493-2019 §5.5 allows for `gas` in
    /// `unit`. Only a warning: the operator may have a reason (another regime, such as GBZ/T 223).
    pub fn standard_warning(&self, gas: Gas, unit: Unit) -> Option<String> {
        let above = |value: f32, limit: f32| value > limit * (1.0 + TOLERANCE);
        match (self.0, measured_kind(gas, unit).ok()?) {
            (Thresholds::Rising { level1, level2 }, GasKind::Combustible) => {
                if above(level1, 25.0) {
                    Some(format!("一级报警设定值 {level1}%LEL 高于 GB/T 50493-2019 的上限 25%LEL"))
                } else if above(level2, 50.0) {
                    Some(format!("二级报警设定值 {level2}%LEL 高于 GB/T 50493-2019 的上限 50%LEL"))
                } else {
                    None
                }
            }
            (Thresholds::Rising { level1, level2 }, GasKind::Toxic) => {
                let l = gas.exposure_limits()?;
                let oel1 = gas.mg_per_m3_in(l.oel()?, unit)?;
                let idlh5 = gas.mg_per_m3_in(0.05 * l.idlh, unit)?;
                let idlh10 = gas.mg_per_m3_in(0.10 * l.idlh, unit)?;
                if above(level1, oel1.max(idlh5)) || above(level2, (2.0 * oel1).max(idlh10)) {
                    Some(format!(
                        "报警设定值 {level1}、{level2} {unit} 高于 GB/T 50493-2019 的上限（100%/200% OEL，\
                         量程不能满足时 5%/10% IDLH）"
                    ))
                } else if above(level1, oel1) || above(level2, 2.0 * oel1) {
                    Some(format!(
                        "报警设定值高于 100%/200% OEL（{oel1:.2}/{:.2} {unit}），只有探测器量程不能满足时才允许",
                        2.0 * oel1
                    ))
                } else {
                    None
                }
            }
            (Thresholds::Oxygen { low, high }, GasKind::Oxygen) => {
                let wider = low < 19.5 * (1.0 - TOLERANCE) || above(high, 23.5);
                wider.then(|| format!("氧气报警设定值 {low}/{high}%VOL 比 GB/T 50493-2019 的 19.5/23.5%VOL 宽"))
            }
            _ => Some("报警设定值的类型与气体不符".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests;
