use proptest::prelude::*;

use super::*;
use crate::gas::detector::{DetectorSettings, Tag};
use crate::gas::gas_table::{Gas, MeasuringRange, Unit};

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn config(gas: Gas, unit: Unit, max: f32, settings: DetectorSettings) -> DetectorConfig {
    let built = Tag::parse("GT-101").and_then(|tag| {
        let range = MeasuringRange::new(0.0, max)?;
        DetectorConfig::new(tag, gas, unit, range, &settings)
    });
    match built {
        Ok(c) => c,
        Err(e) => unreachable!("test config: {e}"),
    }
}

/// Methane 0–100 %LEL: level 1 at 25, level 2 at 50, deadband 2.5, off-delay 3 readings.
fn methane(settings: DetectorSettings) -> DetectorConfig {
    config(Gas::Methane, Unit::PercentLel, 100.0, settings)
}

/// Reports once a day at most, so that offline never interferes with time-based tests.
fn quiet() -> DetectorSettings {
    DetectorSettings { interval_ms: DAY, ..DetectorSettings::default() }
}

fn read(cfg: &DetectorConfig, st: &mut DetectorState, ts: i64, v: f64) -> Vec<Event> {
    read_at(cfg, st, ts, v, ts)
}

fn read_at(cfg: &DetectorConfig, st: &mut DetectorState, ts: i64, v: f64, now: i64) -> Vec<Event> {
    match on_reading(cfg, st, ts, v, now) {
        Ok(a) => a.events.as_slice().to_vec(),
        Err(e) => unreachable!("reading refused: {e}"),
    }
}

fn tick(cfg: &DetectorConfig, st: &mut DetectorState, now: i64) -> Vec<Event> {
    on_tick(cfg, st, now).as_slice().to_vec()
}

fn raised(kind: AlarmKind, level: Level) -> Event {
    Event::Raised { kind, level }
}

fn count_raised(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::Raised { .. })).count()
}

fn gas_alarm(st: &DetectorState) -> Option<AlarmView> {
    st.alarm(AlarmKind::Gas)
}

fn message<T>(r: Result<T, GasError>) -> String {
    r.err().map(|e| e.message).unwrap_or_default()
}

#[test]
fn raises_level_1_when_the_set_point_is_reached() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    assert_eq!(read(&cfg, &mut st, T0 + 1000, 24.9), vec![]);
    assert_eq!(read(&cfg, &mut st, T0 + 2000, 25.0), vec![raised(AlarmKind::Gas, Level::One)]);
    assert_eq!(read(&cfg, &mut st, T0 + 3000, 26.0), vec![]);
}

#[test]
fn level_1_to_level_2_raises_the_level_of_the_same_alarm() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0 + 1000, 30.0);
    let e = read(&cfg, &mut st, T0 + 2000, 55.0);
    assert_eq!(e, vec![Event::LevelRaised { kind: AlarmKind::Gas, from: Level::One, to: Level::Two }]);
    assert_eq!(gas_alarm(&st).map(|a| a.level), Some(Level::Two));
    // Falling back to level 1 keeps the alarm at its worst.
    assert_eq!(read(&cfg, &mut st, T0 + 3000, 30.0), vec![]);
    assert_eq!(gas_alarm(&st).map(|a| (a.level, a.repeats)), Some((Level::Two, 0)));
    // Straight to level 2 from normal opens one alarm at level 2.
    let mut st = DetectorState::new(T0);
    assert_eq!(read(&cfg, &mut st, T0 + 1000, 80.0), vec![raised(AlarmKind::Gas, Level::Two)]);
}

#[test]
fn a_raised_level_must_be_acknowledged_again() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0 + 1000, 30.0);
    assert!(acknowledge(&mut st, AlarmKind::Gas, "张三", T0 + 2000).is_ok());
    read(&cfg, &mut st, T0 + 3000, 60.0);
    assert_eq!(gas_alarm(&st).map(|a| a.status()), Some(AlarmStatus::ActiveUnacknowledged));
}

#[test]
fn a_value_hovering_at_level_1_raises_exactly_one_alarm() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    let mut all = Vec::new();
    for i in 0..500_i64 {
        // Noise of ±1.5 %LEL around the set-point, inside the 2.5 %LEL deadband.
        let v = 25.0 + 1.5 * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
        all.extend(read(&cfg, &mut st, T0 + i * 1000, v));
    }
    assert_eq!(all, vec![raised(AlarmKind::Gas, Level::One)]);
}

#[test]
fn create_update_flood_tb_15103_a_flapping_value_notifies_once_and_counts_repeats() {
    let settings = DetectorSettings { off_delay: Delay::Readings(1), ..DetectorSettings::default() };
    let cfg = methane(settings);
    let mut st = DetectorState::new(T0);
    let mut all = Vec::new();
    for i in 0..100_i64 {
        let v = if i % 2 == 0 { 30.0 } else { 20.0 };
        all.extend(read(&cfg, &mut st, T0 + i * 1000, v));
    }
    assert_eq!(count_raised(&all), 1);
    assert_eq!(all.iter().filter(|e| e.notifies()).count(), 1);
    let repeats = all.iter().filter(|e| matches!(e, Event::Repeated { .. })).count();
    assert_eq!(repeats, 49);
    assert_eq!(gas_alarm(&st).map(|a| a.repeats), Some(49));
    assert!(all.contains(&Event::Repeated { kind: AlarmKind::Gas, level: Level::One, count: 49 }));
}

#[test]
fn on_delay_counts_consecutive_readings() {
    let cfg = methane(DetectorSettings { on_delay: Delay::Readings(3), ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    let values = [30.0, 30.0, 20.0, 30.0, 30.0];
    for (i, v) in (1..).zip(values) {
        assert_eq!(read(&cfg, &mut st, T0 + i * 1000, v), vec![]);
    }
    assert_eq!(read(&cfg, &mut st, T0 + 6000, 30.0), vec![raised(AlarmKind::Gas, Level::One)]);
    // Level 2 needs its own three readings.
    assert_eq!(read(&cfg, &mut st, T0 + 7000, 60.0), vec![]);
    assert_eq!(read(&cfg, &mut st, T0 + 8000, 60.0), vec![]);
    let e = read(&cfg, &mut st, T0 + 9000, 60.0);
    assert_eq!(e, vec![Event::LevelRaised { kind: AlarmKind::Gas, from: Level::One, to: Level::Two }]);
}

#[test]
fn duration_fired_early_tb_10590_duration_on_delay_never_fires_early() {
    let cfg = methane(DetectorSettings { on_delay: Delay::DurationMs(10_000), ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    for dt in [0, 5000, 9999] {
        assert_eq!(read(&cfg, &mut st, T0 + dt, 30.0), vec![], "at {dt}");
    }
    // Timed on the readings, not on arrival: a late-arriving reading does not make time pass.
    assert_eq!(read_at(&cfg, &mut st, T0 + 9999, 30.0, T0 + 60_000), vec![]);
    assert_eq!(read(&cfg, &mut st, T0 + 10_000, 30.0), vec![raised(AlarmKind::Gas, Level::One)]);

    // A dip restarts the duration.
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    read(&cfg, &mut st, T0 + 6000, 10.0);
    assert_eq!(read(&cfg, &mut st, T0 + 12_000, 30.0), vec![]);
    assert_eq!(read(&cfg, &mut st, T0 + 21_999, 30.0), vec![]);
    assert_eq!(read(&cfg, &mut st, T0 + 22_000, 30.0), vec![raised(AlarmKind::Gas, Level::One)]);

    // Two readings far apart prove nothing about the time between them.
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    let after_gap = T0 + cfg.offline_after_ms() + 1;
    assert_eq!(read(&cfg, &mut st, after_gap, 30.0), vec![]);
    assert_eq!(read(&cfg, &mut st, after_gap + 10_000, 30.0), vec![raised(AlarmKind::Gas, Level::One)]);
}

#[test]
fn off_delay_and_deadband_hold_the_alarm_until_the_value_is_clearly_back() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    let mut ts = T0;
    for v in [24.0, 23.0, 22.6, 23.0, 22.0, 21.0] {
        ts += 1000;
        assert_eq!(read(&cfg, &mut st, ts, v), vec![], "{v}");
    }
    assert_eq!(read(&cfg, &mut st, ts + 1000, 5.0), vec![Event::Cleared { kind: AlarmKind::Gas }]);
}

#[test]
fn cleared_is_independent_of_acknowledgement() {
    let cfg = methane(DetectorSettings { off_delay: Delay::Readings(1), ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    read(&cfg, &mut st, T0 + 1000, 0.0);
    assert_eq!(gas_alarm(&st).map(|a| a.status()), Some(AlarmStatus::ClearedUnacknowledged));
    assert_eq!(
        acknowledge(&mut st, AlarmKind::Gas, "张三", T0 + 2000),
        Ok(Event::Acknowledged { kind: AlarmKind::Gas })
    );
    assert_eq!(gas_alarm(&st).map(|a| a.status()), Some(AlarmStatus::ClearedAcknowledged));

    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    assert!(acknowledge(&mut st, AlarmKind::Gas, "张三", T0 + 500).is_ok());
    assert_eq!(gas_alarm(&st).map(|a| a.status()), Some(AlarmStatus::ActiveAcknowledged));
    read(&cfg, &mut st, T0 + 1000, 0.0);
    assert_eq!(gas_alarm(&st).map(|a| a.status()), Some(AlarmStatus::ClearedAcknowledged));
    // A repeat keeps the acknowledgement: same incident.
    read(&cfg, &mut st, T0 + 2000, 30.0);
    assert_eq!(gas_alarm(&st).map(|a| (a.status(), a.repeats)), Some((AlarmStatus::ActiveAcknowledged, 1)));
}

#[test]
fn a_late_reading_is_stored_but_does_not_rewind() {
    let cfg = methane(DetectorSettings { off_delay: Delay::Readings(1), ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0 + 10_000, 30.0);
    let before = st;
    for ts in [T0 + 5000, T0 + 9999, T0 + 10_000] {
        let a = on_reading(&cfg, &mut st, ts, 0.0, T0 + 11_000);
        assert_eq!(a.map(|a| (a.applied, a.events.is_empty(), a.value)), Ok((false, true, 0.0)));
    }
    assert_eq!(st.alarm(AlarmKind::Gas), before.alarm(AlarmKind::Gas));
    assert_eq!(st.last_value(), Some(30.0));
    assert_eq!(st.last_reading_ts(), Some(T0 + 10_000));
    // The next in-order reading is evaluated as usual.
    assert_eq!(read(&cfg, &mut st, T0 + 12_000, 0.0), vec![Event::Cleared { kind: AlarmKind::Gas }]);
}

#[test]
fn offline_after_3_missed_intervals_fires_from_tick_without_a_message() {
    let cfg = methane(DetectorSettings::default()); // 30 s interval, 3 missed
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 1.0);
    assert_eq!(tick(&cfg, &mut st, T0 + 60_000), vec![]);
    assert_eq!(tick(&cfg, &mut st, T0 + 90_000), vec![]);
    let e = tick(&cfg, &mut st, T0 + 90_001);
    assert_eq!(e, vec![Event::Offline { last_seen: T0 }, raised(AlarmKind::Offline, Level::One)]);
    assert!(st.is_offline());
    assert_eq!(tick(&cfg, &mut st, T0 + 100_000), vec![]);
    // A detector that never reports goes offline too, counted from commissioning.
    let mut never = DetectorState::new(T0);
    assert_eq!(count_raised(&tick(&cfg, &mut never, T0 + 90_001)), 1);
    // The next message brings it back.
    let e = read(&cfg, &mut st, T0 + 120_000, 1.0);
    assert_eq!(e, vec![Event::Online, Event::Cleared { kind: AlarmKind::Offline }]);
    assert_eq!(st.alarm(AlarmKind::Offline).map(|a| a.active), Some(false));
    let offline_cfg = methane(DetectorSettings { offline_after_missed: 5, ..DetectorSettings::default() });
    assert_eq!(tick(&offline_cfg, &mut DetectorState::new(T0), T0 + 150_000), vec![]);
}

#[test]
fn going_offline_restarts_the_on_delay() {
    let cfg = methane(DetectorSettings { on_delay: Delay::Readings(3), ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    read(&cfg, &mut st, T0 + 1000, 30.0);
    tick(&cfg, &mut st, T0 + 100_000);
    assert!(st.is_offline());
    let e = read(&cfg, &mut st, T0 + 100_500, 30.0);
    assert_eq!(count_raised(&e), 0);
}

#[test]
fn no_time_based_escalation_tb_11803_escalation_fires_from_tick_once_per_step() {
    let cfg = methane(quiet()); // 5 min, 3 steps
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    let mut escalations = Vec::new();
    for now in (T0..=T0 + 40 * MIN).step_by(1000) {
        for e in tick(&cfg, &mut st, now) {
            if let Event::EscalatedToRole { role, .. } = e {
                escalations.push((role, (now - T0) / 1000));
            }
        }
    }
    assert_eq!(escalations, vec![(1, 300), (2, 600), (3, 900)]);
    assert_eq!(gas_alarm(&st).map(|a| a.escalation_step), Some(3));
}

#[test]
fn acknowledgement_stops_escalation() {
    let cfg = methane(quiet());
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    assert!(tick(&cfg, &mut st, T0 + 5 * MIN).contains(&Event::EscalatedToRole { kind: AlarmKind::Gas, role: 1 }));
    assert!(acknowledge(&mut st, AlarmKind::Gas, "值班长", T0 + 6 * MIN).is_ok());
    for m in 7..60 {
        let e = tick(&cfg, &mut st, T0 + m * MIN);
        assert!(!e.iter().any(|e| matches!(e, Event::EscalatedToRole { .. })), "{m}");
    }
    // A cleared alarm waits for acknowledgement in the list but does not climb the chain.
    let off1 = methane(DetectorSettings { off_delay: Delay::Readings(1), ..quiet() });
    let mut st = DetectorState::new(T0);
    read(&off1, &mut st, T0, 30.0);
    read(&off1, &mut st, T0 + 1000, 0.0);
    assert_eq!(tick(&off1, &mut st, T0 + 30 * MIN), vec![]);
}

#[test]
fn static_value_tb_13050_keeps_reminding_and_cannot_be_closed() {
    let cfg = methane(quiet()); // reminders every 10 min
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 30.0);
    assert!(acknowledge(&mut st, AlarmKind::Gas, "张三", T0).is_ok());
    assert!(dispose(&mut st, AlarmKind::Gas, "张三", "关闭阀门，通风", T0).is_ok());
    let mut reminders = Vec::new();
    for m in 1..=30 {
        // The device keeps sending the same value; nothing but reminders comes out.
        let mut events = read(&cfg, &mut st, T0 + m * MIN, 30.0);
        events.extend(tick(&cfg, &mut st, T0 + m * MIN));
        for e in events {
            assert!(matches!(e, Event::Reminder { .. }), "{e:?}");
            reminders.push(m);
        }
    }
    assert_eq!(reminders, vec![10, 20, 30]);
    assert_eq!(message(close(&mut st, AlarmKind::Gas, "张三")), "气体浓度仍未恢复正常，报警未消除，不能关闭");
}

#[test]
fn lost_acknowledged_messages_tb_6492_every_reading_is_accounted_for() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    let (mut stored, mut refused) = (0, 0);
    for i in 0..20_000_i64 {
        // In order, late, duplicate, from the future and NaN, mixed.
        let ts = match i % 5 {
            0 | 1 => T0 + i * 100,
            2 => T0 + i * 100 - 50_000,
            3 => T0 + (i - 1) * 100,
            _ => T0 + i * 100 + DAY,
        };
        let v = if i % 7 == 0 { f64::NAN } else { (i % 60) as f64 };
        match on_reading(&cfg, &mut st, ts, v, T0 + i * 100) {
            Ok(_) => stored += 1,
            Err(_) => refused += 1,
        }
    }
    assert_eq!(stored + refused, 20_000);
    assert!(stored > 10_000 && refused > 4000, "{stored} {refused}");
}

#[test]
fn processing_timeouts_tb_9625_a_refused_reading_changes_nothing_and_blocks_nothing() {
    let cfg = methane(DetectorSettings { out_of_range: OutOfRange::Reject, ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 10.0);
    let before = st;
    let now = T0 + 1000;
    let bad = [
        (now, f64::NAN, "读数不是有效数字（NaN 或无穷大），已拒收"),
        (now, f64::INFINITY, "读数不是有效数字（NaN 或无穷大），已拒收"),
        (now, f64::NEG_INFINITY, "读数不是有效数字（NaN 或无穷大），已拒收"),
        (now + 5 * MIN + 1, 1.0, "读数时间 2027-01-15 16:05:01 比服务器时间超前 300 秒以上，已拒收，请校准设备时钟"),
        (now - 7 * DAY - 1, 1.0, "读数时间 2027-01-08 16:00:00 早于服务器时间 168 小时以上，已拒收（时间戳应为毫秒）"),
        (now, 100.5, "读数 100.5 超出量程 0～100，已拒收"),
        (now, -0.1, "读数 -0.1 超出量程 0～100，已拒收"),
    ];
    for (ts, v, expected) in bad {
        let r = on_reading(&cfg, &mut st, ts, v, now);
        assert_eq!(r.err().map(|e| e.to_string()).as_deref(), Some(expected));
        assert_eq!(st, before);
    }
    assert_eq!(read_at(&cfg, &mut st, now, 30.0, now), vec![raised(AlarmKind::Gas, Level::One)]);
    // Bounds are relative to the passed-in clock: exactly at the limits is fine.
    assert!(on_reading(&cfg, &mut st, now + 5 * MIN, 1.0, now).is_ok());
    assert!(on_reading(&cfg, &mut st, now - 7 * DAY, 1.0, now).is_ok());
}

#[test]
fn over_range_is_clamped_by_default() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    let a = on_reading(&cfg, &mut st, T0, 150.0, T0);
    let got = a.map(|a| (a.value, a.clamped, a.events.as_slice().to_vec()));
    assert_eq!(got, Ok((100.0, true, vec![raised(AlarmKind::Gas, Level::Two)])));
    let a = on_reading(&cfg, &mut st, T0 + 1, -3.0, T0 + 1);
    assert_eq!(a.map(|a| (a.value, a.clamped)), Ok((0.0, true)));
}

#[test]
fn oxygen_has_a_low_and_a_high_alarm() {
    let cfg = config(Gas::Oxygen, Unit::PercentVol, 25.0, DetectorSettings::default()); // deadband 0.4
    let mut st = DetectorState::new(T0);
    assert_eq!(read(&cfg, &mut st, T0, 20.9), vec![]);
    assert_eq!(read(&cfg, &mut st, T0 + 1000, 19.5), vec![raised(AlarmKind::OxygenLow, Level::One)]);
    let mut ts = T0 + 1000;
    for v in [19.8, 19.9, 20.0, 20.5] {
        ts += 1000;
        assert_eq!(read(&cfg, &mut st, ts, v), vec![], "{v}");
    }
    assert_eq!(read(&cfg, &mut st, ts + 1000, 20.9), vec![Event::Cleared { kind: AlarmKind::OxygenLow }]);
    assert_eq!(read(&cfg, &mut st, ts + 2000, 23.5), vec![raised(AlarmKind::OxygenHigh, Level::One)]);
    assert_eq!(st.open_alarms().count(), 2);
}

#[test]
fn fault_codes_raise_one_fault_alarm() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    let e = on_fault(&mut st, 3, T0);
    assert_eq!(e.as_slice(), &[Event::Fault { code: 3 }, raised(AlarmKind::Fault, Level::One)]);
    assert!(on_fault(&mut st, 3, T0 + 1000).is_empty());
    assert_eq!(on_fault(&mut st, 7, T0 + 2000).as_slice(), &[Event::Fault { code: 7 }]);
    assert_eq!(st.fault_code(), 7);
    // Readings are still evaluated during a fault.
    assert_eq!(read(&cfg, &mut st, T0 + 3000, 40.0), vec![raised(AlarmKind::Gas, Level::One)]);
    assert_eq!(on_fault(&mut st, 0, T0 + 4000).as_slice(), &[Event::Cleared { kind: AlarmKind::Fault }]);
    assert_eq!(message(close(&mut st, AlarmKind::Fault, "李四")), "报警尚未处置，请先填写处置情况再关闭");
}

#[test]
fn lifecycle_is_raised_acknowledged_disposed_closed() {
    let cfg = methane(DetectorSettings { off_delay: Delay::Readings(1), ..DetectorSettings::default() });
    let mut st = DetectorState::new(T0);
    let gas = AlarmKind::Gas;
    assert_eq!(message(acknowledge(&mut st, gas, "张三", T0)), "该探测器没有未关闭的气体浓度报警");
    read(&cfg, &mut st, T0, 30.0);
    assert_eq!(message(acknowledge(&mut st, gas, "  ", T0)), "请填写操作人");
    assert_eq!(message(dispose(&mut st, gas, "张三", "通风", T0)), "请先确认报警，再填写处置情况");
    assert_eq!(message(close(&mut st, gas, "张三")), "报警尚未处置，请先填写处置情况再关闭");
    assert!(acknowledge(&mut st, gas, "张三", T0).is_ok());
    assert_eq!(message(acknowledge(&mut st, gas, "李四", T0)), "该气体浓度报警已确认");
    assert_eq!(message(dispose(&mut st, gas, "张三", "", T0)), "请填写处置情况");
    assert_eq!(dispose(&mut st, gas, "张三", "关闭阀门 V-12，现场通风", T0), Ok(Event::Disposed { kind: gas }));
    assert_eq!(message(dispose(&mut st, gas, "张三", "再次", T0)), "该气体浓度报警已处置");
    assert_eq!(message(close(&mut st, gas, "张三")), "气体浓度仍未恢复正常，报警未消除，不能关闭");
    read(&cfg, &mut st, T0 + 1000, 0.0);
    assert_eq!(close(&mut st, gas, "张三"), Ok(Event::Closed { kind: gas }));
    assert_eq!(st.alarm(gas), None);
    // The next occurrence is a new alarm.
    assert_eq!(read(&cfg, &mut st, T0 + 2000, 30.0), vec![raised(gas, Level::One)]);
}

#[test]
fn state_is_small_and_fixed_size() {
    // Copy types cannot own heap memory: per-detector state and per-call results never allocate.
    fn copy<T: Copy>() {}
    copy::<DetectorState>();
    copy::<Accepted>();
    copy::<Events>();
    let size = std::mem::size_of::<DetectorState>();
    assert!(size <= 256, "DetectorState is {size} bytes");
    assert_eq!(size, 208);
    assert!(std::mem::size_of::<Accepted>() <= 320);
}

#[test]
fn state_survives_a_round_trip_for_failover() {
    let cfg = methane(DetectorSettings::default());
    let mut st = DetectorState::new(T0);
    read(&cfg, &mut st, T0, 60.0);
    assert!(acknowledge(&mut st, AlarmKind::Gas, "张三", T0).is_ok());
    let json = serde_json::to_string(&st).unwrap_or_default();
    let back: Option<DetectorState> = serde_json::from_str(&json).ok();
    assert_eq!(back, Some(st));
}

/// Property tests over random sequences of readings, ticks and actions.
mod properties;
