//! The engine's memory per detector at 100,000 detectors (issue 6, Measure: goal ≤ 1 KiB), counted
//! by a global allocator around the engine alone: what `take_over` keeps (configurations, states,
//! the tag index), then what one reading of every detector adds (per-device counters, the values
//! pages show, the open minute's aggregate).
//! SQLite's page cache does not go through Rust's allocator and is not counted. A measurement, not a
//! test; run with `cargo test --release -p dianxiaoer-gas --test engine_memory -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::gas::payload::{KEY_VALUE, Point};
use dianxiaoer_core::gas::{DetectorConfig, DetectorSettings, Gas, MeasuringRange, Tag};
use dianxiaoer_gas::{Allowed, Batch, Engine};
use dianxiaoer_store::{Actor, DatabaseUrl, DetectorInput, EnterpriseInput, Keys, Store};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N: usize = 100_000;
const T0: i64 = 1_800_000_000_000;

async fn store_with_detectors(dir: &std::path::Path) -> Store {
    let url = DatabaseUrl::parse(&format!("sqlite://{}/gas.db", dir.display())).unwrap();
    let store = Store::open(&url, Keys::default()).await.unwrap();
    store.seed_reference(T0).await.unwrap();
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
    let enterprise_id = store.create_enterprise(&Actor::cli(), &Scope::Zone, &e, T0).await.unwrap();
    let settings = DetectorSettings { interval_ms: 3_600_000, ..DetectorSettings::default() };
    let range = MeasuringRange::new(0.0, 100.0).unwrap();
    let rows: Vec<DetectorInput> = (0..N)
        .map(|i| {
            let tag = format!("BENCH-{i:06}");
            let cfg = DetectorConfig::new(
                Tag::parse(&tag).unwrap(),
                Gas::Combustible,
                Gas::Combustible.default_unit(),
                range,
                &settings,
            )
            .unwrap();
            DetectorInput {
                enterprise_id,
                tag,
                name: format!("可燃气体探测器{}", i + 1),
                location: String::new(),
                plant_area: "装置区".into(),
                position: None,
                spec: dianxiaoer_gas::spec::spec(&cfg, &settings),
                status: "active".into(),
                device_secret: None,
            }
        })
        .collect();
    store.insert_detectors_bulk(&Actor::cli(), &rows, T0).await.unwrap();
    store
}

#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn memory_per_detector() {
    let dir = std::env::temp_dir().join(format!("dxe-gas-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = store_with_detectors(&dir).await;
    let live = || LIVE.load(Ordering::Relaxed);

    let before = live();
    let engine = Engine::new(store.clone(), Arc::new(|| T0 + 1_000));
    assert_eq!(engine.take_over().await.unwrap(), N);
    let loaded = live() - before;

    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let points = chunk
            .iter()
            .map(|i| Point { device: Some(format!("BENCH-{i:06}")), ts: T0 + 500, key: KEY_VALUE.into(), value: 1.5 })
            .collect();
        let r = engine.ingest(&Batch { points, device: None, allowed: Allowed::All, reply: None }).await.unwrap();
        assert_eq!(r.accepted, chunk.len() as u64);
    }
    let reported = live() - before;
    eprintln!(
        "{N} detectors: loaded {loaded} B ({} B per detector); after one reading each {reported} B ({} B per \
         detector)",
        loaded / N as isize,
        reported / N as isize
    );
    drop(engine);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
