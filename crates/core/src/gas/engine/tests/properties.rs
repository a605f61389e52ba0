//! Invariants of the engine's rules over random sequences of readings, ticks, faults and operator
//! actions, and the durable part of a state deciding as the live one does.

use super::*;

#[derive(Debug, Clone)]
enum Op {
    Read { dt: i64, late_by: i64, value: f64 },
    Tick(i64),
    Fault(u16),
    Ack(usize),
    Dispose(usize),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let late = prop_oneof![4 => Just(0_i64), 1 => 1_i64..200_000];
    prop_oneof![
        10 => (0_i64..40_000, late, -5.0_f64..110.0).prop_map(|(dt, late_by, value)| Op::Read { dt, late_by, value }),
        3 => (0_i64..400_000).prop_map(Op::Tick),
        1 => (0_u16..3).prop_map(Op::Fault),
        2 => (0_usize..5).prop_map(Op::Ack),
        2 => (0_usize..5).prop_map(Op::Dispose),
        2 => (0_usize..5).prop_map(Op::Close),
    ]
}

fn settings() -> impl Strategy<Value = (bool, DetectorSettings)> {
    let delay = prop_oneof![(1_u16..4).prop_map(Delay::Readings), (0_i64..60_000).prop_map(Delay::DurationMs)];
    (any::<bool>(), delay.clone(), delay).prop_map(|(oxygen, on_delay, off_delay)| {
        let s = DetectorSettings { on_delay, off_delay, escalation_after_ms: MIN, ..DetectorSettings::default() };
        (oxygen, s)
    })
}

proptest! {
    #[test]
    fn one_open_alarm_per_kind_and_no_raise_without_close((oxygen, s) in settings(), ops in prop::collection::vec(op(), 1..300)) {
        let cfg = if oxygen { config(Gas::Oxygen, Unit::PercentVol, 25.0, s) } else { methane(s) };
        let mut st = DetectorState::new(T0);
        let mut now = T0;
        let mut open = [false; 5];
        let mut active = [false; 5];
        for op in ops {
            let before = st;
            let events: Vec<Event> = match op {
                Op::Read { dt, late_by, value } => {
                    now += dt;
                    let v = if oxygen { value / 4.4 } else { value };
                    match on_reading(&cfg, &mut st, now - late_by, v, now) {
                        Ok(a) => {
                            if !a.applied && !before.is_offline() {
                                for k in AlarmKind::ALL {
                                    prop_assert_eq!(st.alarm(k), before.alarm(k));
                                }
                            }
                            a.events.as_slice().to_vec()
                        }
                        Err(_) => {
                            prop_assert_eq!(st, before);
                            vec![]
                        }
                    }
                }
                Op::Tick(dt) => { now += dt; on_tick(&cfg, &mut st, now).as_slice().to_vec() }
                Op::Fault(code) => on_fault(&mut st, code, now).as_slice().to_vec(),
                Op::Ack(k) => acknowledge(&mut st, AlarmKind::ALL[k], "张三", now).into_iter().collect(),
                Op::Dispose(k) => dispose(&mut st, AlarmKind::ALL[k], "张三", "处置", now).into_iter().collect(),
                Op::Close(k) => close(&mut st, AlarmKind::ALL[k], "张三").into_iter().collect(),
            };
            prop_assert!(events.len() < crate::gas::events::MAX_EVENTS);
            for e in events {
                match e {
                    Event::Raised { kind, .. } => {
                        prop_assert!(!open[kind.index()], "raised twice without close: {:?}", kind);
                        open[kind.index()] = true;
                        active[kind.index()] = true;
                    }
                    Event::Repeated { kind, .. } => {
                        prop_assert!(open[kind.index()] && !active[kind.index()]);
                        active[kind.index()] = true;
                    }
                    Event::Cleared { kind } => {
                        prop_assert!(open[kind.index()] && active[kind.index()]);
                        active[kind.index()] = false;
                    }
                    Event::Closed { kind } => {
                        prop_assert!(open[kind.index()] && !active[kind.index()]);
                        open[kind.index()] = false;
                    }
                    Event::LevelRaised { kind, .. } | Event::EscalatedToRole { kind, .. } | Event::Reminder { kind, .. } => {
                        prop_assert!(open[kind.index()] && active[kind.index()]);
                    }
                    _ => {}
                }
            }
            for k in AlarmKind::ALL {
                prop_assert_eq!(st.alarm(k).is_some(), open[k.index()]);
                prop_assert_eq!(st.alarm(k).is_some_and(|a| a.active), active[k.index()]);
            }
        }
    }
}

#[test]
fn steady_readings_leave_the_durable_part_alone() {
    let cfg = methane(quiet());
    let mut st = DetectorState::new(T0);
    // The off-delay (3 readings) of the clearing run fills up over the first readings ...
    let mut saved = st;
    let mut saves = 0;
    for k in 0..100 {
        read(&cfg, &mut st, T0 + k * 1000, 1.0);
        if !durable_eq(&cfg, &saved, &st) {
            saved = st;
            saves += 1;
        }
    }
    // ... and then nothing a restart needs moves: three saves for a hundred readings.
    assert_eq!(saves, 3);
    assert_ne!(saved.last_reading_ts(), st.last_reading_ts());
    // A reading over level 1 starts the on-delay: saved at once.
    read(&cfg, &mut st, T0 + 100_000, 30.0);
    assert!(!durable_eq(&cfg, &saved, &st));
}

proptest! {
    /// A state saved only when its durable part changed, given the volatile part of the live one,
    /// decides exactly like the live one: the saving rule loses nothing a decision depends on.
    #[test]
    fn the_durable_part_decides((oxygen, s) in settings(), ops in prop::collection::vec(op(), 1..300)) {
        let cfg = if oxygen { config(Gas::Oxygen, Unit::PercentVol, 25.0, s) } else { methane(s) };
        let mut st = DetectorState::new(T0);
        let mut saved = st;
        let mut now = T0;
        for op in ops {
            let mut restored = DetectorState { last_ts: st.last_ts, last_seen: st.last_seen, last_value: st.last_value, ..saved };
            let apply = |st: &mut DetectorState, now: i64| -> Vec<Event> {
                match op {
                    Op::Read { late_by, value, .. } => {
                        let v = if oxygen { value / 4.4 } else { value };
                        on_reading(&cfg, st, now - late_by, v, now).map(|a| a.events.as_slice().to_vec()).unwrap_or_default()
                    }
                    Op::Tick(_) => on_tick(&cfg, st, now).as_slice().to_vec(),
                    Op::Fault(code) => on_fault(st, code, now).as_slice().to_vec(),
                    Op::Ack(k) => acknowledge(st, AlarmKind::ALL[k], "张三", now).into_iter().collect(),
                    Op::Dispose(k) => dispose(st, AlarmKind::ALL[k], "张三", "处置", now).into_iter().collect(),
                    Op::Close(k) => close(st, AlarmKind::ALL[k], "张三").into_iter().collect(),
                }
            };
            now += match op { Op::Read { dt, .. } | Op::Tick(dt) => dt, _ => 0 };
            let live = apply(&mut st, now);
            let again = apply(&mut restored, now);
            prop_assert_eq!(live, again);
            prop_assert!(durable_eq(&cfg, &st, &restored));
            if !durable_eq(&cfg, &saved, &st) {
                saved = st;
            }
        }
    }
}
