//! What the alarm engine keeps in memory between saves, and how an engine taking over after a crash
//! finds it again, on both backends: a steady detector's state is not rewritten per reading (only
//! its alarm-relevant part is saved at once), pages show the engine's live values meanwhile, and a
//! new engine catches up on the last readings from the stored ones; the open minutes' aggregates
//! live in memory until their minute closes and are rebuilt from the raw readings after a crash,
//! with nothing counted twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::gas::payload::Point;
use dianxiaoer_gas::{Allowed, Engine, IngestReport};
use dianxiaoer_store::{DatabaseUrl, MinuteBucket};
use dianxiaoer_testkit::{Backend, TestApp, dual};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use std::sync::Arc;

const MIN: i64 = 60_000;

fn connect_string(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

/// The first column of the first row, as an optional integer.
async fn scalar(url: &DatabaseUrl, sql: &str) -> Option<i64> {
    let mut c = sqlx::AnyConnection::connect(&connect_string(url)).await.unwrap();
    let v: Option<i64> = sqlx::query(sql).fetch_optional(&mut c).await.unwrap().and_then(|r| r.try_get(0).ok());
    c.close().await.unwrap();
    v
}

fn points(tag: &str, readings: &[(i64, f64)]) -> Vec<Point> {
    readings.iter().map(|(ts, v)| Point { device: Some(tag.into()), ts: *ts, key: "value".into(), value: *v }).collect()
}

async fn feed(engine: &Engine, tag: &str, readings: &[(i64, f64)]) -> IngestReport {
    let batch =
        dianxiaoer_gas::Batch { points: points(tag, readings), device: None, allowed: Allowed::All, reply: None };
    engine.ingest(&batch).await.unwrap()
}

async fn restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let body = json!({"enterprise": app.fixture.enterprise("a"), "tag": "R-H2S-01", "name": "储罐区硫化氢", "gas": "H2S", "range_max": 100});
    let r = staff.post_json("/api/v1/gas/detectors", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let a = app.gas.engine();
    let t0 = app.clock.now_ms();
    assert_eq!(t0 % MIN, 0, "the test clock starts on a whole minute");

    // Twenty steady readings: once the clearing delay has filled, nothing a restart needs moves, so
    // the saved state stays behind while pages show the engine's own values.
    let steady: Vec<(i64, f64)> = (0..20).map(|k| (t0 + k * 1000, 1.0)).collect();
    for r in &steady {
        assert_eq!(feed(a, "R-H2S-01", std::slice::from_ref(r)).await.accepted, 1);
    }
    let saved = scalar(&app.db_url, &format!("SELECT last_ts FROM gas_detector_state WHERE detector_id = {id}")).await;
    assert!(saved.is_some_and(|ts| ts < t0 + 19_000), "saved {saved:?}");
    let d: Value = staff.get(&format!("/api/v1/gas/detectors/{id}")).await.json().await.unwrap();
    assert_eq!((d["last_ts"].as_i64(), d["last_value_milli"].as_i64()), (Some(t0 + 19_000), Some(1000)));
    // The open minute is in the engine's memory, not in the table, yet reads see all of it.
    let table = format!("SELECT n FROM gas_reading_minutes WHERE detector_id = {id} AND minute = {t0}");
    assert_eq!(scalar(&app.db_url, &table).await, None);
    let all = app.store.minute_rows(id, t0 - MIN, t0 + MIN).await.unwrap();
    assert_eq!(all, vec![MinuteBucket { start: t0, n: 20, sum_milli: 20_000, min_milli: 1000, max_milli: 1000 }]);

    // The engine dies without saving (its memory is simply not used again); another takes over.
    let clock = app.clock.clone();
    let b = Engine::new(app.store.clone(), Arc::new(move || clock.now_ms()));
    assert_eq!(b.take_over().await.unwrap(), 1);
    let st = b.state(id).await.unwrap();
    assert_eq!((st.last_reading_ts(), st.last_value()), (Some(t0 + 19_000), Some(1.0)), "caught up");
    assert_eq!(scalar(&app.db_url, &table).await, Some(20), "the open minute rebuilt from the raw readings");
    // A reading the broker delivers again is a duplicate; a leak still raises one alarm.
    let rep = feed(&b, "R-H2S-01", &steady[19..]).await;
    assert_eq!((rep.accepted, rep.duplicates), (0, 1));
    let rep = feed(&b, "R-H2S-01", &[(t0 + 20_000, 30.0), (t0 + 21_000, 30.0)]).await;
    assert_eq!(rep.accepted, 2);
    let open = format!("SELECT COUNT(*) FROM gas_alarms WHERE detector_id = {id} AND closed_at IS NULL");
    assert_eq!(scalar(&app.db_url, &open).await, Some(1));

    // Two minutes on, the minute closes: its row is written once, counting every reading once.
    app.clock.advance_ms(2 * MIN);
    b.tick().await.unwrap();
    assert_eq!(scalar(&app.db_url, &table).await, Some(22));
    let rows = app.store.minute_rows(id, t0 - MIN, t0 + MIN).await.unwrap();
    assert_eq!((rows[0].n, rows[0].sum_milli, rows[0].max_milli), (22, 80_000, 30_000));

    // A reading another writer stored already, newer than what the engine knows of: counted as a
    // duplicate all the same (the step is written again, checking each reading).
    let later = t0 + 2 * MIN + 5000;
    app.store
        .write_gas(
            &dianxiaoer_store::Actor::cli(),
            &dianxiaoer_store::GasWrite { readings: vec![(id, later, 2000)], ..Default::default() },
        )
        .await
        .unwrap();
    let rep = feed(&b, "R-H2S-01", &[(later, 2.0), (later + 1000, 2.0)]).await;
    assert_eq!((rep.accepted, rep.duplicates), (1, 1));

    // At shutdown everything is saved: the next engine finds the state as it was.
    b.save_pending().await.unwrap();
    let saved = scalar(&app.db_url, &format!("SELECT last_ts FROM gas_detector_state WHERE detector_id = {id}")).await;
    assert_eq!(saved, Some(later + 1000));
    let rows = app.store.minute_rows(id, t0, t0 + 10 * MIN).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.n).sum::<i64>(), 24);
    app.cleanup().await;
}
dual!(engine_restart, super::restart);
