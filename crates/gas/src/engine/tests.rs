#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::ingest::Allowed;
use crate::spec;
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::gas::payload::{KEY_VALUE, Point};
use dianxiaoer_core::gas::{AlarmKind, DetectorSettings, Gas, Level, MeasuringRange, Tag, Unit};
use dianxiaoer_store::{DatabaseUrl, DetectorInput, EnterpriseInput, Keys};
use std::sync::atomic::{AtomicI64, Ordering};

const T0: i64 = 1_800_000_000_000;

fn entry() -> Entry {
    Entry {
        id: 7,
        enterprise_id: 3,
        tag: "GT-7".into(),
        cfg: None,
        active: true,
        state: DetectorState::new(T0),
        dirty: false,
        saved_at: T0,
    }
}

#[test]
fn status_events_lend_their_detail_to_the_alarm_they_cause() {
    let mut step = Step::default();
    let e = entry();
    let events = [
        Event::Offline { last_seen: T0 },
        Event::Raised { kind: AlarmKind::Offline, level: Level::One },
        Event::Fault { code: 12 },
    ];
    step.record(&e, &events, None, Origin::engine(T0 + 1));
    let changes: Vec<(Event, &str)> = step.changes.iter().map(|c| (c.event, c.detail.as_str())).collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0].0, Event::Raised { kind: AlarmKind::Offline, level: Level::One });
    assert!(changes[0].1.starts_with("最后一次通信："), "{changes:?}");
    // A fault code with no alarm event after it is recorded on its own (on the open fault alarm).
    assert_eq!(changes[1], (Event::Fault { code: 12 }, "故障码 12"));
    assert_eq!(step.events.len(), 3);
    assert_eq!(step.events.iter().filter(|(_, c)| c.is_some()).count(), 1);
    assert!(step.changes.iter().all(|c| c.who == ENGINE_NAME && c.alarm_id.is_none()));
}

#[test]
fn a_person_s_action_names_the_alarm_and_carries_the_note() {
    let mut step = Step::default();
    let e = entry();
    let o = Origin { at: T0, who: "staff", note: "关阀", alarm: Some(42) };
    step.record(&e, &[Event::Disposed { kind: AlarmKind::Gas }], Some(3.0), o);
    let c = &step.changes[0];
    assert_eq!((c.alarm_id, c.who.as_str(), c.detail.as_str(), c.value_milli), (Some(42), "staff", "关阀", None));
}

fn point(tag: &str, ts: i64, value: f64) -> Point {
    Point { device: Some(tag.into()), ts, key: KEY_VALUE.into(), value }
}

fn batch(points: Vec<Point>) -> Batch {
    Batch { points, device: None, allowed: Allowed::All, reply: None }
}

/// A SQLite store with one enterprise and one H2S detector; returns the store and the detector id.
async fn store_with_detector(dir: &std::path::Path) -> (Store, i64) {
    let url = DatabaseUrl::parse(&format!("sqlite://{}/gas.db", dir.display())).unwrap();
    let store = Store::open(&url, Keys::default()).await.unwrap();
    store.seed_reference(T0).await.unwrap();
    let actor = Actor::cli();
    let e = EnterpriseInput {
        credit_code: CreditCode::with_check_digit("91371323MA3C00001").unwrap(),
        name: "山东甲化工有限公司".into(),
        legal_representative: "张三".into(),
        industry_code: "C2614".into(),
        host_town: "371323103".into(),
        introducer_town: None,
        introducer_department: None,
        project_area: None,
        grid_id: None,
        address: "沂水经济开发区".into(),
        contact_name: String::new(),
        contact_phone: String::new(),
        status: "operating".into(),
        location: None,
        land_area_centi_m2: None,
        above_scale: false,
        employees: None,
        registered_capital_fen: None,
        established: None,
        tags: String::new(),
    };
    let enterprise_id = store.create_enterprise(&actor, &Scope::Zone, &e, T0).await.unwrap();
    let settings = DetectorSettings::default();
    let cfg = DetectorConfig::new(
        Tag::parse("GT-1").unwrap(),
        Gas::HydrogenSulfide,
        Unit::Ppm,
        MeasuringRange::new(0.0, 100.0).unwrap(),
        &settings,
    )
    .unwrap();
    let input = DetectorInput {
        enterprise_id,
        tag: "GT-1".into(),
        name: "硫化氢".into(),
        location: String::new(),
        plant_area: String::new(),
        position: None,
        spec: spec::spec(&cfg, &settings),
        status: "active".into(),
        device_secret: None,
    };
    let id = store.create_detector(&actor, &Scope::Zone, &input, T0).await.unwrap();
    (store, id)
}

#[tokio::test]
async fn a_failed_write_leaves_memory_as_it_was() {
    let dir = std::env::temp_dir().join(format!("dxe-gas-engine-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (store, id) = store_with_detector(&dir).await;
    let now = Arc::new(AtomicI64::new(T0));
    let clock = now.clone();
    let engine = Engine::new(store.clone(), Arc::new(move || clock.load(Ordering::SeqCst)));
    engine.set_leading(true);
    assert_eq!(engine.reload_all().await.unwrap(), 1);
    let mut events = engine.subscribe();

    let report = engine.ingest(&batch(vec![point("GT-1", T0, 1.0), point("GT-1", T0 + 1000, 9.0)])).await.unwrap();
    assert_eq!((report.accepted, report.duplicates, report.rejected_total), (2, 0, 0));
    let ev = events.try_recv().unwrap();
    assert_eq!(ev.event, Event::Raised { kind: AlarmKind::Gas, level: Level::One });
    assert!(ev.alarm_id.is_some());
    let before = engine.state(id).await.unwrap();

    // The database goes away: the batch is refused as a whole and the live state does not move.
    store.close().await;
    let r = engine.ingest(&batch(vec![point("GT-1", T0 + 2000, 20.0)])).await;
    assert_eq!(r, Err(IngestError::Store));
    assert_eq!(engine.state(id).await, Some(before));
    assert!(events.try_recv().is_err(), "nothing is announced that was not written");
    now.store(T0 + 600_000, Ordering::SeqCst);
    assert_eq!(engine.tick().await, Err(IngestError::Store));
    assert_eq!(engine.state(id).await, Some(before));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_refresh_takes_only_what_changed_since_the_last_read() {
    let dir = std::env::temp_dir().join(format!("dxe-gas-refresh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (store, id) = store_with_detector(&dir).await;
    let now = Arc::new(AtomicI64::new(T0));
    let clock = now.clone();
    let engine = Engine::new(store.clone(), Arc::new(move || clock.load(Ordering::SeqCst)));
    engine.set_leading(true);
    assert_eq!(engine.reload_all().await.unwrap(), 1);
    // Nothing saved since the load (beyond the overlap): nothing read.
    now.store(T0 + 3_600_000, Ordering::SeqCst);
    assert_eq!(engine.refresh().await.unwrap(), 1, "saved at T0, within the overlap of the load at T0");
    now.store(T0 + 7_200_000, Ordering::SeqCst);
    assert_eq!(engine.refresh().await.unwrap(), 0);

    // Renamed through the store (as another instance would): the next refresh takes it.
    let row = store.detector(&Scope::Zone, id).await.unwrap();
    let input = DetectorInput {
        enterprise_id: row.enterprise_id,
        tag: "GT-2".into(),
        name: row.name,
        location: row.location,
        plant_area: row.plant_area,
        position: None,
        spec: row.spec,
        status: row.status,
        device_secret: None,
    };
    store.update_detector(&Actor::cli(), &Scope::Zone, id, &input, T0 + 7_300_000).await.unwrap();
    now.store(T0 + 7_260_000, Ordering::SeqCst);
    assert_eq!(engine.refresh().await.unwrap(), 1);
    let report = engine.ingest(&batch(vec![point("GT-2", T0 + 7_300_000, 1.0)])).await.unwrap();
    assert_eq!(report.accepted, 1);
    let report = engine.ingest(&batch(vec![point("GT-1", T0 + 7_301_000, 1.0)])).await.unwrap();
    assert_eq!((report.accepted, report.rejected_total), (0, 1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_standby_relays_what_the_leader_recorded_while_someone_watches() {
    let dir = std::env::temp_dir().join(format!("dxe-gas-relay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (store, id) = store_with_detector(&dir).await;
    let clock: ClockFn = Arc::new(|| T0);
    let leader = Engine::new(store.clone(), clock.clone());
    leader.set_leading(true);
    assert_eq!(leader.reload_all().await.unwrap(), 1);
    let standby = Engine::new(store.clone(), clock);
    let mut relay = crate::relay::Relay::default();

    // Nobody watching: nothing read.
    leader.ingest(&batch(vec![point("GT-1", T0 - 5000, 1.0)])).await.unwrap();
    assert_eq!(relay.poll(&standby, &store).await.unwrap(), 0);
    let mut events = standby.subscribe();
    let mut values = standby.subscribe_values();
    assert_eq!(relay.poll(&standby, &store).await.unwrap(), 0, "a new follower starts from now");

    leader.ingest(&batch(vec![point("GT-1", T0, 1.0), point("GT-1", T0 + 1000, 9.0)])).await.unwrap();
    assert_eq!(relay.poll(&standby, &store).await.unwrap(), 1);
    let ev = events.try_recv().unwrap();
    assert_eq!((ev.detector_id, ev.tag.as_str()), (id, "GT-1"));
    assert_eq!(ev.event, Event::Raised { kind: AlarmKind::Gas, level: Level::One });
    assert!(ev.alarm_id.is_some());
    standby.flush_values(std::time::Instant::now());
    let batch_of_values = values.try_recv().unwrap();
    assert_eq!(batch_of_values.iter().map(|v| (v.detector_id, v.value_milli)).collect::<Vec<_>>(), vec![(id, 9_000)]);

    // Read once: the next read brings nothing new.
    assert_eq!(relay.poll(&standby, &store).await.unwrap(), 0);
    assert!(events.try_recv().is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
