//! The alarm engine: pure functions over a detector's [`DetectorConfig`] and its small, fixed-size
//! [`DetectorState`]. The runtime calls [`on_reading`] for every reading, [`on_fault`] for fault
//! codes, [`on_tick`] periodically (time-based rules fire without a message, unlike ThingsBoard,
//! #11803 / #13050), and the operator actions when people act. Nothing here allocates.
//!
//! Rules:
//! - **Raise** when the value has met a set-point for the on-delay: ≥ level 1 / level 2, ≤ oxygen low,
//!   ≥ oxygen high. **Clear** when it has been back past the set-point by the deadband for the
//!   off-delay (< level 1 − deadband, > low + deadband, < high − deadband). Between the two nothing
//!   changes, so a value hovering at a set-point raises one alarm.
//! - Delays count in-order readings and are timed on the readings' own timestamps; a gap longer than
//!   the offline window, or going offline, restarts them (nothing is known about the gap), so a
//!   duration condition cannot fire early (ThingsBoard #10590).
//! - One open alarm per kind. The condition returning while the alarm is cleared but not closed
//!   counts a repeat on it. Level 1 → level 2 raises the open alarm's level; the level never drops
//!   while the alarm is open (its worst is what people must handle).
//! - A reading with a timestamp not after the last applied one is late: the runtime stores it, but it
//!   does not touch alarm state. Any message proves the device online.
//! - Lifecycle: raised → acknowledged → disposed (who, what was done) → closed. "Cleared" is a
//!   separate flag set by the value, as in ThingsBoard. Closing needs the alarm cleared and disposed,
//!   so an alarm whose value is still high cannot be made to disappear (ThingsBoard #13050).
//! - A raised level resets acknowledgement and disposal (二级 must be acknowledged in its own
//!   right); a repeat keeps them (same incident, counted).
//! - `on_tick`: offline after `offline_after_missed` intervals without any message; escalation of
//!   an active, unacknowledged alarm to the next role every `escalation_after` (one step per
//!   period, at most `escalation_steps`); a reminder every `reminder_every` while a gas or oxygen
//!   alarm stays active, acknowledged or not. Acknowledging or disposing restarts the reminder period.

use serde::{Deserialize, Serialize};

use super::GasError;
use super::detector::{Delay, DetectorConfig, OutOfRange};
use super::events::{AlarmKind, Event, Events, Level};
use super::gas_table::Thresholds;
use crate::when::format_ms;

/// Why a reading was refused. Refused readings are not stored and change nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadingError {
    NotFinite,
    InFuture { ts: i64, max_future_ms: i64 },
    TooOld { ts: i64, max_age_ms: i64 },
    OutOfRange { value: f64, min: f32, max: f32 },
}

impl std::fmt::Display for ReadingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ReadingError::NotFinite => f.write_str("读数不是有效数字（NaN 或无穷大），已拒收"),
            ReadingError::InFuture { ts, max_future_ms } => write!(
                f,
                "读数时间 {} 比服务器时间超前 {} 秒以上，已拒收，请校准设备时钟",
                format_ms(ts),
                max_future_ms / 1000
            ),
            ReadingError::TooOld { ts, max_age_ms } => write!(
                f,
                "读数时间 {} 早于服务器时间 {} 小时以上，已拒收（时间戳应为毫秒）",
                format_ms(ts),
                max_age_ms / 3_600_000
            ),
            ReadingError::OutOfRange { value, min, max } => write!(f, "读数 {value} 超出量程 {min}～{max}，已拒收"),
        }
    }
}

impl std::error::Error for ReadingError {}

/// A reading that passed the checks: store `value`; `applied` is false for a late or duplicate one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accepted {
    /// The value to store, in the detector's unit (clamped if it was outside the range).
    pub value: f32,
    pub clamped: bool,
    pub applied: bool,
    pub events: Events,
}

const OPEN: u8 = 1;
const ACTIVE: u8 = 2;
const ACKED: u8 = 4;
const DISPOSED: u8 = 8;

/// One kind's alarm. 24 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Slot {
    /// Server time of the raise, the last level raise or the last escalation step.
    since: i64,
    /// Server time of the last reminder (or raise, acknowledgement, disposal).
    reminded_at: i64,
    repeats: u32,
    level: Level,
    escalation_step: u8,
    flags: u8,
}

impl Slot {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    fn set(&mut self, flag: u8, on: bool) {
        if on { self.flags |= flag } else { self.flags &= !flag }
    }
}

/// A consecutive run of readings meeting one condition. 16 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Run {
    /// Timestamp of the run's first reading.
    since: i64,
    count: u16,
}

impl Run {
    fn update(&mut self, holds: bool, ts: i64) {
        if !holds {
            self.count = 0;
        } else {
            if self.count == 0 {
                self.since = ts;
            }
            self.count = self.count.saturating_add(1);
        }
    }

    /// What of the run any decision depends on under `delay`: the count up to the readings the
    /// delay needs; for a timed delay, whether the run is on and since when.
    fn progress(&self, delay: Delay) -> (u16, i64) {
        match delay {
            Delay::Readings(n) => (self.count.min(n), 0),
            Delay::DurationMs(_) => (self.count.min(1), if self.count > 0 { self.since } else { 0 }),
        }
    }

    fn satisfies(&self, delay: Delay, ts: i64) -> bool {
        self.count > 0
            && match delay {
                Delay::Readings(n) => self.count >= n,
                Delay::DurationMs(ms) => ts.saturating_sub(self.since) >= ms,
            }
    }
}

/// Runs: rising [≥ level 1, ≥ level 2, < level 1 − deadband, unused];
/// oxygen [≤ low, ≥ high, > low + deadband, < high − deadband].
const RUNS: usize = 4;
const NO_READING: i64 = i64::MIN;

/// Everything the engine remembers about one detector: fixed size, no heap (see the size test).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorState {
    /// Timestamp of the last applied reading.
    last_ts: i64,
    /// Server time of the last message of any kind.
    last_seen: i64,
    runs: [Run; RUNS],
    alarms: [Slot; AlarmKind::ALL.len()],
    last_value: f32,
    fault_code: u16,
    offline: bool,
}

/// TB-style status of an open alarm: two independent flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmStatus {
    ActiveUnacknowledged,
    ActiveAcknowledged,
    ClearedUnacknowledged,
    ClearedAcknowledged,
}

/// A read-only view of an open alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AlarmView {
    pub kind: AlarmKind,
    pub level: Level,
    pub active: bool,
    pub acknowledged: bool,
    pub disposed: bool,
    pub repeats: u32,
    pub escalation_step: u8,
}

impl AlarmView {
    pub fn status(&self) -> AlarmStatus {
        match (self.active, self.acknowledged) {
            (true, false) => AlarmStatus::ActiveUnacknowledged,
            (true, true) => AlarmStatus::ActiveAcknowledged,
            (false, false) => AlarmStatus::ClearedUnacknowledged,
            (false, true) => AlarmStatus::ClearedAcknowledged,
        }
    }
}

impl DetectorState {
    /// A detector commissioned at `now`: no readings, no alarms, online until it misses its window.
    pub fn new(now: i64) -> DetectorState {
        DetectorState {
            last_ts: NO_READING,
            last_seen: now,
            runs: [Run::default(); RUNS],
            alarms: [Slot::default(); AlarmKind::ALL.len()],
            last_value: 0.0,
            fault_code: 0,
            offline: false,
        }
    }

    /// The open alarm of `kind`, if any.
    pub fn alarm(&self, kind: AlarmKind) -> Option<AlarmView> {
        let s = self.alarms.get(kind.index())?;
        s.has(OPEN).then_some(AlarmView {
            kind,
            level: s.level,
            active: s.has(ACTIVE),
            acknowledged: s.has(ACKED),
            disposed: s.has(DISPOSED),
            repeats: s.repeats,
            escalation_step: s.escalation_step,
        })
    }

    pub fn open_alarms(&self) -> impl Iterator<Item = AlarmView> + '_ {
        AlarmKind::ALL.into_iter().filter_map(|k| self.alarm(k))
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The last applied value; `None` before the first reading.
    pub fn last_value(&self) -> Option<f32> {
        (self.last_ts != NO_READING).then_some(self.last_value)
    }

    pub fn last_reading_ts(&self) -> Option<i64> {
        (self.last_ts != NO_READING).then_some(self.last_ts)
    }

    pub fn last_seen(&self) -> i64 {
        self.last_seen
    }

    /// The current fault code; 0 = none.
    pub fn fault_code(&self) -> u16 {
        self.fault_code
    }

    /// Takes the newest stored reading (`ts`, `value`, seen at `seen` server time) when it is newer
    /// than this state: after a restart, for a state saved before its last readings (the runtime
    /// saves the part [`durable_eq`] ignores only every so often). What it restores is exactly that
    /// part, so the state decides as it would have without the restart.
    pub fn catch_up(&mut self, ts: i64, value: f32, seen: i64) {
        if ts > self.last_ts {
            self.last_ts = ts;
            self.last_value = value;
            self.last_seen = self.last_seen.max(seen);
        }
    }

    fn slot(&mut self, kind: AlarmKind) -> Option<&mut Slot> {
        self.alarms.get_mut(kind.index())
    }

    /// The condition of `kind` holds at `level`: open, repeat or raise the level.
    fn assert(&mut self, kind: AlarmKind, level: Level, now: i64, events: &mut Events) {
        let Some(s) = self.slot(kind) else { return };
        if !s.has(OPEN) {
            *s = Slot { since: now, reminded_at: now, repeats: 0, level, escalation_step: 0, flags: OPEN | ACTIVE };
            events.push(Event::Raised { kind, level });
            return;
        }
        if !s.has(ACTIVE) {
            s.set(ACTIVE, true);
            s.repeats = s.repeats.saturating_add(1);
            s.reminded_at = now;
            events.push(Event::Repeated { kind, level: s.level.max(level), count: s.repeats });
        }
        if level > s.level {
            events.push(Event::LevelRaised { kind, from: s.level, to: level });
            s.level = level;
            s.since = now;
            s.reminded_at = now;
            s.set(ACKED | DISPOSED, false);
        }
    }

    fn clear(&mut self, kind: AlarmKind, events: &mut Events) {
        if let Some(s) = self.slot(kind)
            && s.has(OPEN)
            && s.has(ACTIVE)
        {
            s.set(ACTIVE, false);
            events.push(Event::Cleared { kind });
        }
    }

    /// Any message: the device is online.
    fn seen(&mut self, now: i64, events: &mut Events) {
        self.last_seen = self.last_seen.max(now);
        if self.offline {
            self.offline = false;
            events.push(Event::Online);
            self.clear(AlarmKind::Offline, events);
        }
    }
}

/// Whether two states of a detector agree on everything but what the runtime may save late: the
/// last applied reading's time and value, when the device was last seen, and a run's progress
/// beyond what its delay needs (see `Run::progress`). The runtime saves a state at once when this
/// part changes — alarms, offline, fault code, a delay that started, reached or reset — and
/// everything else in bulk later, so that a steady detector does not rewrite its state per reading.
pub fn durable_eq(cfg: &DetectorConfig, a: &DetectorState, b: &DetectorState) -> bool {
    // Runs 0–1 raise (on-delay), 2–3 clear (off-delay); see `evaluate` (a rising gas leaves run 3 unused).
    let (on, off) = (cfg.on_delay(), cfg.off_delay());
    let delays = [on, on, off, off];
    a.alarms == b.alarms
        && a.offline == b.offline
        && a.fault_code == b.fault_code
        && a.runs.iter().zip(&b.runs).zip(delays).all(|((x, y), d)| x.progress(d) == y.progress(d))
}

/// Checks and evaluates one reading of the detector, `ts` and `now` in epoch milliseconds.
pub fn on_reading(
    cfg: &DetectorConfig,
    state: &mut DetectorState,
    ts: i64,
    value: f64,
    now: i64,
) -> Result<Accepted, ReadingError> {
    if !value.is_finite() {
        return Err(ReadingError::NotFinite);
    }
    if ts > now.saturating_add(cfg.max_future_ms()) {
        return Err(ReadingError::InFuture { ts, max_future_ms: cfg.max_future_ms() });
    }
    if ts < now.saturating_sub(cfg.max_age_ms()) {
        return Err(ReadingError::TooOld { ts, max_age_ms: cfg.max_age_ms() });
    }
    let range = cfg.range();
    let (min, max) = (f64::from(range.min()), f64::from(range.max()));
    let outside = value < min || value > max;
    if outside && cfg.out_of_range() == OutOfRange::Reject {
        return Err(ReadingError::OutOfRange { value, min: range.min(), max: range.max() });
    }
    // Within [min, max] of an f32 range, so the conversion only rounds.
    let value = value.clamp(min, max) as f32;

    let mut events = Events::new();
    state.seen(now, &mut events);
    let applied = ts > state.last_ts;
    if applied {
        if state.last_ts != NO_READING && ts.saturating_sub(state.last_ts) > cfg.offline_after_ms() {
            state.runs = [Run::default(); RUNS];
        }
        state.last_ts = ts;
        state.last_value = value;
        evaluate(cfg, state, ts, value, now, &mut events);
    }
    Ok(Accepted { value, clamped: outside, applied, events })
}

fn evaluate(cfg: &DetectorConfig, state: &mut DetectorState, ts: i64, v: f32, now: i64, events: &mut Events) {
    let (on, off, db) = (cfg.on_delay(), cfg.off_delay(), cfg.deadband());
    match cfg.set_points().thresholds() {
        Thresholds::Rising { level1, level2 } => {
            let [r1, r2, rc, _] = &mut state.runs;
            r1.update(v >= level1, ts);
            r2.update(v >= level2, ts);
            rc.update(v < level1 - db, ts);
            let (two, one, clear) = (r2.satisfies(on, ts), r1.satisfies(on, ts), rc.satisfies(off, ts));
            if two {
                state.assert(AlarmKind::Gas, Level::Two, now, events);
            } else if one {
                state.assert(AlarmKind::Gas, Level::One, now, events);
            } else if clear {
                state.clear(AlarmKind::Gas, events);
            }
        }
        Thresholds::Oxygen { low, high } => {
            let [rl, rh, rlc, rhc] = &mut state.runs;
            rl.update(v <= low, ts);
            rh.update(v >= high, ts);
            rlc.update(v > low + db, ts);
            rhc.update(v < high - db, ts);
            let (lo, hi) = (rl.satisfies(on, ts), rh.satisfies(on, ts));
            let (lo_clear, hi_clear) = (rlc.satisfies(off, ts), rhc.satisfies(off, ts));
            if lo {
                state.assert(AlarmKind::OxygenLow, Level::One, now, events);
            } else if lo_clear {
                state.clear(AlarmKind::OxygenLow, events);
            }
            if hi {
                state.assert(AlarmKind::OxygenHigh, Level::One, now, events);
            } else if hi_clear {
                state.clear(AlarmKind::OxygenHigh, events);
            }
        }
    }
}

/// A fault code from the device: 0 = no fault (clears the fault alarm), anything else raises it.
/// The same code sent again changes nothing; a new code is reported. Readings are still evaluated
/// during a fault: a gas alarm is never suppressed by a fault flag.
pub fn on_fault(state: &mut DetectorState, code: u16, now: i64) -> Events {
    let mut events = Events::new();
    state.seen(now, &mut events);
    if code == 0 {
        state.fault_code = 0;
        state.clear(AlarmKind::Fault, &mut events);
    } else {
        if code != state.fault_code {
            state.fault_code = code;
            events.push(Event::Fault { code });
        }
        state.assert(AlarmKind::Fault, Level::One, now, &mut events);
    }
    events
}

/// The time-based rules, to be called periodically (every few seconds) with the server time.
pub fn on_tick(cfg: &DetectorConfig, state: &mut DetectorState, now: i64) -> Events {
    let mut events = Events::new();
    if !state.offline && now.saturating_sub(state.last_seen) > cfg.offline_after_ms() {
        state.offline = true;
        state.runs = [Run::default(); RUNS];
        events.push(Event::Offline { last_seen: state.last_seen });
        state.assert(AlarmKind::Offline, Level::One, now, &mut events);
    }
    let last_value = state.last_value;
    for kind in AlarmKind::ALL {
        let Some(s) = state.slot(kind) else { continue };
        if !s.has(OPEN) || !s.has(ACTIVE) {
            continue;
        }
        let after = cfg.escalation_after_ms();
        if after > 0
            && !s.has(ACKED)
            && s.escalation_step < cfg.escalation_steps()
            && now.saturating_sub(s.since) >= after
        {
            s.escalation_step += 1;
            s.since = now;
            events.push(Event::EscalatedToRole { kind, role: s.escalation_step });
        }
        let every = cfg.reminder_every_ms();
        if every > 0 && kind.is_concentration() && now.saturating_sub(s.reminded_at) >= every {
            s.reminded_at = now;
            events.push(Event::Reminder { kind, level: s.level, value: last_value });
        }
    }
    events
}

const WHO_MAX_CHARS: usize = 32;
const NOTE_MAX_CHARS: usize = 500;

fn open_slot(state: &mut DetectorState, kind: AlarmKind) -> Result<&mut Slot, GasError> {
    state
        .slot(kind)
        .filter(|s| s.has(OPEN))
        .ok_or_else(|| GasError::new(format!("该探测器没有未关闭的{}报警", kind.label())))
}

fn check_who(raw: &str) -> Result<(), GasError> {
    crate::text::required("操作人", raw, WHO_MAX_CHARS).map(|_| ()).map_err(GasError::new)
}

/// 确认: someone has seen the alarm. Stops its escalation. Allowed whether or not it has cleared.
pub fn acknowledge(state: &mut DetectorState, kind: AlarmKind, who: &str, now: i64) -> Result<Event, GasError> {
    check_who(who)?;
    let s = open_slot(state, kind)?;
    if s.has(ACKED) {
        return Err(GasError::new(format!("该{}报警已确认", kind.label())));
    }
    s.set(ACKED, true);
    s.reminded_at = now;
    Ok(Event::Acknowledged { kind })
}

/// 处置: who did what about it. Needs the alarm acknowledged first.
pub fn dispose(state: &mut DetectorState, kind: AlarmKind, who: &str, note: &str, now: i64) -> Result<Event, GasError> {
    check_who(who)?;
    crate::text::required("处置情况", note, NOTE_MAX_CHARS).map_err(GasError::new)?;
    let s = open_slot(state, kind)?;
    if !s.has(ACKED) {
        return Err(GasError::new("请先确认报警，再填写处置情况"));
    }
    if s.has(DISPOSED) {
        return Err(GasError::new(format!("该{}报警已处置", kind.label())));
    }
    s.set(DISPOSED, true);
    s.reminded_at = now;
    Ok(Event::Disposed { kind })
}

/// 关闭: ends the alarm. Needs it disposed and cleared; the next occurrence opens a new alarm.
pub fn close(state: &mut DetectorState, kind: AlarmKind, who: &str) -> Result<Event, GasError> {
    check_who(who)?;
    let s = open_slot(state, kind)?;
    if !s.has(DISPOSED) {
        return Err(GasError::new("报警尚未处置，请先填写处置情况再关闭"));
    }
    if s.has(ACTIVE) {
        let why = match kind {
            AlarmKind::Gas => "气体浓度仍未恢复正常",
            AlarmKind::OxygenLow | AlarmKind::OxygenHigh => "氧含量仍未恢复正常",
            AlarmKind::Offline => "设备仍然离线",
            AlarmKind::Fault => "设备故障仍未排除",
        };
        return Err(GasError::new(format!("{why}，报警未消除，不能关闭")));
    }
    *s = Slot::default();
    Ok(Event::Closed { kind })
}

#[cfg(test)]
mod tests;
