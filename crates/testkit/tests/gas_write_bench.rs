//! A rough figure for the storage of gas readings, not a test: 100,000 readings in batches of 2,000
//! (200 detectors) through `Store::write_gas`, which also keeps their one-minute aggregates. Ignored
//! by default; run with
//! `cargo test -p dianxiaoer-testkit --test gas_write_bench -- --ignored --nocapture --test-threads=1`
//! (and `DXE_TEST_POSTGRES_URL` for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_store::{Actor, GasWrite};
use dianxiaoer_testkit::{Backend, START_MS, TestApp};

async fn write_rate(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (batches, per, detectors) = (50_i64, 2_000_i64, 200_i64);
    let started = std::time::Instant::now();
    for b in 0..batches {
        let readings = (0..per).map(|i| (i % detectors + 1, START_MS + (b * per + i) * 10, 1_234)).collect();
        app.store.write_gas(&Actor::cli(), &GasWrite { readings, ..GasWrite::default() }).await.unwrap();
    }
    let s = started.elapsed().as_secs_f64();
    eprintln!("{backend:?}: {} readings in {s:.2} s = {:.0} readings/s", batches * per, (batches * per) as f64 / s);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test"]
async fn sqlite() {
    write_rate(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test"]
async fn postgres() {
    write_rate(Backend::Postgres).await;
}
