//! A detector's configuration (气体探测器 / 监测点): what it measures and how its alarms behave.
//!
//! [`DetectorSettings`] is the form: every option with its default, all public. [`DetectorConfig`] is
//! the validated result the engine runs on; past [`DetectorConfig::new`] nothing is re-checked.

use serde::{Deserialize, Serialize};

use super::GasError;
use super::gas_table::{Gas, GasKind, MeasuringRange, SetPoints, Thresholds, Unit, measured_kind};

const SECOND_MS: i64 = 1000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// 位号: the plant's identifier of a detector, e.g. "GT-101" or "罐区1#-H2S-03".
///
/// Taken exactly as written (it must match what devices send): 1–64 characters, no whitespace and
/// no control characters. Chinese characters are allowed because plants use them in tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

pub const TAG_MAX_CHARS: usize = 64;

impl Tag {
    pub fn parse(raw: &str) -> Result<Tag, GasError> {
        if raw.is_empty() {
            return Err(GasError::new("请填写位号"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(GasError::new("位号不能包含空格或控制字符"));
        }
        if raw.chars().count() > TAG_MAX_CHARS {
            return Err(GasError::new(format!("位号不能超过 {TAG_MAX_CHARS} 个字符")));
        }
        Ok(Tag(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = GasError;
    fn try_from(s: String) -> Result<Tag, GasError> {
        Tag::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> String {
        t.0
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long a condition must hold before the engine acts on it: ThingsBoard's "repeating" and
/// "duration" conditions. Only in-order readings count; late ones never advance a delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delay {
    /// The condition holds on this many consecutive readings (1 = at once).
    Readings(u16),
    /// The condition holds on every reading from the first one to one at least this many
    /// milliseconds later, measured on the readings' own timestamps (0 = at once).
    DurationMs(i64),
}

/// What to do with a reading outside the detector's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfRange {
    /// Store and evaluate the nearest bound. The default: an over-range gas reading means "at least
    /// full scale", and rejecting it would hide the most dangerous reading a detector can give.
    Clamp,
    /// Refuse the reading with a [`super::engine::ReadingError::OutOfRange`].
    Reject,
}

/// Every option of a detector, with its default. `None` means "from the gas table".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorSettings {
    /// Overrides the GB/T 50493-2019 defaults of the gas table.
    pub set_points: Option<SetPoints>,
    /// Default: at once (GB/T 50493 alarms when the set-point is reached).
    pub on_delay: Delay,
    /// Default: 3 consecutive readings back to normal.
    pub off_delay: Delay,
    /// 回差: how far past the set-point the value must return before the alarm clears. Default: 10 %
    /// of (level 1 − range minimum), or 10 % of (high − low) for oxygen.
    pub deadband: Option<f32>,
    /// 上报周期. Default 30 s.
    pub interval_ms: i64,
    /// Missed intervals before the detector counts as offline. Default 3.
    pub offline_after_missed: u16,
    /// Time without acknowledgement before an alarm goes to the next role; 0 = never. Default 5 min.
    pub escalation_after_ms: i64,
    /// How many roles above the first an alarm can climb. Default 3.
    pub escalation_steps: u8,
    /// Period of reminders while a gas alarm stays active; 0 = never. Default 10 min.
    pub reminder_every_ms: i64,
    pub out_of_range: OutOfRange,
    /// How far ahead of the server clock a reading's timestamp may be (device clock drift). Default 5 min.
    pub max_future_ms: i64,
    /// How old a reading may be (store-and-forward gateways upload late). Default 7 days.
    pub max_age_ms: i64,
}

impl Default for DetectorSettings {
    fn default() -> DetectorSettings {
        DetectorSettings {
            set_points: None,
            on_delay: Delay::Readings(1),
            off_delay: Delay::Readings(3),
            deadband: None,
            interval_ms: 30 * SECOND_MS,
            offline_after_missed: 3,
            escalation_after_ms: 5 * MINUTE_MS,
            escalation_steps: 3,
            reminder_every_ms: 10 * MINUTE_MS,
            out_of_range: OutOfRange::Clamp,
            max_future_ms: 5 * MINUTE_MS,
            max_age_ms: 7 * DAY_MS,
        }
    }
}

/// A validated detector configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectorConfig {
    tag: Tag,
    gas: Gas,
    unit: Unit,
    kind: GasKind,
    range: MeasuringRange,
    set_points: SetPoints,
    deadband: f32,
    on_delay: Delay,
    off_delay: Delay,
    interval_ms: i64,
    offline_after_missed: u16,
    escalation_after_ms: i64,
    escalation_steps: u8,
    reminder_every_ms: i64,
    out_of_range: OutOfRange,
    max_future_ms: i64,
    max_age_ms: i64,
}

fn check_ms(label: &str, ms: i64, min: i64, max: i64, allow_zero: bool) -> Result<i64, GasError> {
    if (allow_zero && ms == 0) || (min..=max).contains(&ms) {
        return Ok(ms);
    }
    let range = format!("{}～{}", human_ms(min), human_ms(max));
    let zero = if allow_zero { "，0 表示不启用" } else { "" };
    Err(GasError::new(format!("{label}应在 {range} 之间{zero}")))
}

/// "30 秒", "5 分钟", "7 天": for messages.
fn human_ms(ms: i64) -> String {
    match ms {
        _ if ms >= DAY_MS && ms % DAY_MS == 0 => format!("{} 天", ms / DAY_MS),
        _ if ms >= HOUR_MS && ms % HOUR_MS == 0 => format!("{} 小时", ms / HOUR_MS),
        _ if ms >= MINUTE_MS && ms % MINUTE_MS == 0 => format!("{} 分钟", ms / MINUTE_MS),
        _ if ms % SECOND_MS == 0 => format!("{} 秒", ms / SECOND_MS),
        _ => format!("{ms} 毫秒"),
    }
}

fn check_delay(label: &str, delay: Delay) -> Result<Delay, GasError> {
    match delay {
        Delay::Readings(n) if (1..=1000).contains(&n) => Ok(delay),
        Delay::Readings(_) => Err(GasError::new(format!("{label}的连续读数次数应在 1～1000 之间"))),
        Delay::DurationMs(ms) => check_ms(&format!("{label}的持续时间"), ms, 0, DAY_MS, false).map(Delay::DurationMs),
    }
}

/// The set-points re-validated against this detector's range and kind.
fn check_set_points(sp: SetPoints, kind: GasKind, range: &MeasuringRange) -> Result<SetPoints, GasError> {
    match (sp.thresholds(), kind) {
        (Thresholds::Oxygen { low, high }, GasKind::Oxygen) => SetPoints::oxygen(low, high, range),
        (Thresholds::Rising { level1, level2 }, GasKind::Combustible | GasKind::Toxic) => {
            SetPoints::rising(level1, level2, range)
        }
        (Thresholds::Oxygen { .. }, _) => Err(GasError::new("只有氧气探测器使用欠氧/过氧报警设定值")),
        (Thresholds::Rising { .. }, _) => Err(GasError::new("氧气探测器应设置欠氧和过氧报警值")),
    }
}

fn check_deadband(deadband: Option<f32>, sp: &SetPoints, range: &MeasuringRange) -> Result<f32, GasError> {
    let db = match (deadband, sp.thresholds()) {
        (Some(db), _) => db,
        (None, Thresholds::Rising { level1, .. }) => 0.1 * (level1 - range.min()),
        (None, Thresholds::Oxygen { low, high }) => 0.1 * (high - low),
    };
    if !db.is_finite() || db < 0.0 {
        return Err(GasError::new("回差应为不小于 0 的数字"));
    }
    match sp.thresholds() {
        Thresholds::Rising { level1, .. } if level1 - db <= range.min() => Err(GasError::new(format!(
            "回差 {db} 过大：一级报警设定值减去回差应高于量程下限 {}，否则报警无法消除",
            range.min()
        ))),
        Thresholds::Oxygen { low, high } if low + db >= high - db => {
            Err(GasError::new(format!("回差 {db} 过大：欠氧与过氧的消警区间重叠")))
        }
        _ => Ok(db),
    }
}

impl DetectorConfig {
    pub fn new(
        tag: Tag,
        gas: Gas,
        unit: Unit,
        range: MeasuringRange,
        settings: &DetectorSettings,
    ) -> Result<DetectorConfig, GasError> {
        let kind = measured_kind(gas, unit)?;
        let set_points = match settings.set_points {
            Some(sp) => check_set_points(sp, kind, &range)?,
            None => SetPoints::default_for(gas, unit, &range)?,
        };
        let deadband = check_deadband(settings.deadband, &set_points, &range)?;
        let s = settings;
        if !(1..=100).contains(&s.offline_after_missed) {
            return Err(GasError::new("离线判定的漏报次数应在 1～100 之间"));
        }
        if s.escalation_steps > 9 {
            return Err(GasError::new("升级层级最多 9 级"));
        }
        Ok(DetectorConfig {
            tag,
            gas,
            unit,
            kind,
            range,
            set_points,
            deadband,
            on_delay: check_delay("报警延时", s.on_delay)?,
            off_delay: check_delay("消警延时", s.off_delay)?,
            interval_ms: check_ms("上报周期", s.interval_ms, SECOND_MS, DAY_MS, false)?,
            offline_after_missed: s.offline_after_missed,
            escalation_after_ms: check_ms("未确认升级时间", s.escalation_after_ms, 10 * SECOND_MS, 7 * DAY_MS, true)?,
            escalation_steps: s.escalation_steps,
            reminder_every_ms: check_ms("持续报警提醒间隔", s.reminder_every_ms, 10 * SECOND_MS, 7 * DAY_MS, true)?,
            out_of_range: s.out_of_range,
            max_future_ms: check_ms("允许的设备时钟超前", s.max_future_ms, 0, DAY_MS, false)?,
            max_age_ms: check_ms("允许的读数延迟", s.max_age_ms, MINUTE_MS, 366 * DAY_MS, false)?,
        })
    }

    pub fn tag(&self) -> &Tag {
        &self.tag
    }
    pub fn gas(&self) -> Gas {
        self.gas
    }
    pub fn unit(&self) -> Unit {
        self.unit
    }
    pub fn kind(&self) -> GasKind {
        self.kind
    }
    pub fn range(&self) -> MeasuringRange {
        self.range
    }
    pub fn set_points(&self) -> SetPoints {
        self.set_points
    }
    pub fn deadband(&self) -> f32 {
        self.deadband
    }
    pub fn on_delay(&self) -> Delay {
        self.on_delay
    }
    pub fn off_delay(&self) -> Delay {
        self.off_delay
    }
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }
    pub fn offline_after_missed(&self) -> u16 {
        self.offline_after_missed
    }
    /// No message for longer than this: offline (interval × missed intervals).
    pub fn offline_after_ms(&self) -> i64 {
        self.interval_ms.saturating_mul(i64::from(self.offline_after_missed))
    }
    pub fn escalation_after_ms(&self) -> i64 {
        self.escalation_after_ms
    }
    pub fn escalation_steps(&self) -> u8 {
        self.escalation_steps
    }
    pub fn reminder_every_ms(&self) -> i64 {
        self.reminder_every_ms
    }
    pub fn out_of_range(&self) -> OutOfRange {
        self.out_of_range
    }
    pub fn max_future_ms(&self) -> i64 {
        self.max_future_ms
    }
    pub fn max_age_ms(&self) -> i64 {
        self.max_age_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag() -> Tag {
        Tag::parse("GT-101").unwrap_or(Tag(String::new()))
    }

    fn config(gas: Gas, unit: Unit, max: f32, s: &DetectorSettings) -> Result<DetectorConfig, GasError> {
        let range = MeasuringRange::new(0.0, max)?;
        DetectorConfig::new(tag(), gas, unit, range, s)
    }

    fn message<T>(r: Result<T, GasError>) -> String {
        r.err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn tags_are_taken_as_written() {
        assert_eq!(Tag::parse("罐区1#-H2S-03").map(String::from), Ok("罐区1#-H2S-03".to_owned()));
        assert_eq!(message(Tag::parse("")), "请填写位号");
        assert_eq!(message(Tag::parse(" GT-101")), "位号不能包含空格或控制字符");
        assert_eq!(message(Tag::parse("GT\u{0}1")), "位号不能包含空格或控制字符");
        assert_eq!(message(Tag::parse(&"x".repeat(65))), "位号不能超过 64 个字符");
        assert!(Tag::parse(&"位".repeat(64)).is_ok());
    }

    #[test]
    fn defaults_come_from_the_gas_table() {
        let c = config(Gas::Methane, Unit::PercentLel, 100.0, &DetectorSettings::default());
        assert_eq!(
            c.as_ref().map(|c| c.set_points().thresholds()),
            Ok(Thresholds::Rising { level1: 25.0, level2: 50.0 })
        );
        assert_eq!(c.as_ref().map(DetectorConfig::deadband), Ok(2.5));
        assert_eq!(c.as_ref().map(DetectorConfig::offline_after_ms), Ok(90_000));
        assert_eq!(c.as_ref().map(DetectorConfig::kind), Ok(GasKind::Combustible));
        let o2 = config(Gas::Oxygen, Unit::PercentVol, 25.0, &DetectorSettings::default());
        assert!(o2.is_ok_and(|c| (c.deadband() - 0.4).abs() < 1e-6));
    }

    #[test]
    fn overrides_are_checked_against_this_detector() {
        let range = MeasuringRange::new(0.0, 200.0);
        let sp = range.and_then(|r| SetPoints::rising(20.0, 150.0, &r)).ok();
        let s = DetectorSettings { set_points: sp, ..DetectorSettings::default() };
        assert_eq!(
            message(config(Gas::Methane, Unit::PercentLel, 100.0, &s)),
            "报警设定值 20、150 应在量程 0～100 之内"
        );
        assert!(config(Gas::Methane, Unit::PercentLel, 200.0, &s).is_ok());
        assert_eq!(message(config(Gas::Oxygen, Unit::PercentVol, 200.0, &s)), "氧气探测器应设置欠氧和过氧报警值");
    }

    #[test]
    fn options_are_bounded_with_chinese_messages() {
        let d = DetectorSettings::default;
        let cases = [
            (
                DetectorSettings { deadband: Some(25.0), ..d() },
                "回差 25 过大：一级报警设定值减去回差应高于量程下限 0，否则报警无法消除",
            ),
            (DetectorSettings { deadband: Some(f32::NAN), ..d() }, "回差应为不小于 0 的数字"),
            (DetectorSettings { on_delay: Delay::Readings(0), ..d() }, "报警延时的连续读数次数应在 1～1000 之间"),
            (DetectorSettings { off_delay: Delay::DurationMs(-1), ..d() }, "消警延时的持续时间应在 0 秒～1 天 之间"),
            (DetectorSettings { interval_ms: 10, ..d() }, "上报周期应在 1 秒～1 天 之间"),
            (DetectorSettings { offline_after_missed: 0, ..d() }, "离线判定的漏报次数应在 1～100 之间"),
            (DetectorSettings { escalation_after_ms: 5, ..d() }, "未确认升级时间应在 10 秒～7 天 之间，0 表示不启用"),
            (DetectorSettings { escalation_steps: 10, ..d() }, "升级层级最多 9 级"),
            (DetectorSettings { reminder_every_ms: -1, ..d() }, "持续报警提醒间隔应在 10 秒～7 天 之间，0 表示不启用"),
            (DetectorSettings { max_age_ms: 0, ..d() }, "允许的读数延迟应在 1 分钟～366 天 之间"),
        ];
        for (s, expected) in cases {
            assert_eq!(message(config(Gas::Methane, Unit::PercentLel, 100.0, &s)), expected);
        }
        let o2 = DetectorSettings { deadband: Some(2.0), ..d() };
        assert_eq!(message(config(Gas::Oxygen, Unit::PercentVol, 25.0, &o2)), "回差 2 过大：欠氧与过氧的消警区间重叠");
        let off = DetectorSettings { escalation_after_ms: 0, reminder_every_ms: 0, ..d() };
        assert!(config(Gas::Methane, Unit::PercentLel, 100.0, &off).is_ok());
    }

    #[test]
    fn config_is_small() {
        assert!(std::mem::size_of::<DetectorConfig>() <= 160, "{}", std::mem::size_of::<DetectorConfig>());
    }
}
