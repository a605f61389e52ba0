//! Storage of gas readings on both backends: one-minute aggregates kept in the readings' transaction
//! (duplicates never count twice, late readings land in their minute), the retention job (SQLite
//! deletes in batches; PostgreSQL creates daily partitions ahead, moves what the default partition
//! caught, and drops whole days), and migration 0015 over readings stored before it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::gas::retention::{Day, Retention};
use dianxiaoer_store::{DatabaseUrl, Keys, MinuteBucket, PRUNE_BATCH, Store};
use dianxiaoer_testkit::{Backend, START_MS, Session, TestApp, drop_database, dual, fresh_database};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn connect_string(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

/// Runs SQL on the test database, outside the store.
async fn raw(url: &DatabaseUrl, sql: &str) {
    let mut c = sqlx::AnyConnection::connect(&connect_string(url)).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

/// The first column of the first row of a COUNT query.
async fn count(url: &DatabaseUrl, sql: &str) -> i64 {
    let mut c = sqlx::AnyConnection::connect(&connect_string(url)).await.unwrap();
    let n: i64 = sqlx::query(sql).fetch_one(&mut c).await.unwrap().try_get(0).unwrap();
    c.close().await.unwrap();
    n
}

async fn api_key(s: &Session) -> String {
    let r = s.post_json("/api/v1/api-keys", &json!({"name": "采集网关"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned()
}

async fn ingest(app: &TestApp, key: &str, tag: &str, points: &[(i64, f64)]) -> Value {
    let body =
        json!({"readings": points.iter().map(|(ts, v)| json!({"tag": tag, "ts": ts, "value": v})).collect::<Vec<_>>()});
    let r = reqwest::Client::new().post(app.url("/api/v1/gas/readings")).bearer_auth(key).json(&body).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json().await.unwrap()
}

/// An H2S detector (range 0–100 ppm, readings beyond it clamped) of enterprise a.
async fn detector(app: &TestApp, s: &Session, tag: &str) -> i64 {
    let body = json!({"enterprise": app.fixture.enterprise("a"), "tag": tag, "name": "储罐区硫化氢", "gas": "H2S", "range_max": 100});
    let r = s.post_json("/api/v1/gas/detectors", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn bucket(start: i64, n: i64, sum_milli: i64, min_milli: i64, max_milli: i64) -> MinuteBucket {
    MinuteBucket { start, n, sum_milli, min_milli, max_milli }
}

async fn aggregates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let id = detector(&app, &staff, "S-H2S-01").await;
    let key = api_key(&staff).await;
    let t0 = app.clock.now_ms();
    assert_eq!(t0 % MIN, 0, "the test clock starts on a whole minute");

    // One batch over two minutes, with a reading repeated inside it.
    let first = [(t0, 1.0), (t0 + 1000, 3.0), (t0 + 2000, 8.0), (t0 + 2000, 8.0), (t0 + 61_000, 2.0)];
    let rep = ingest(&app, &key, "S-H2S-01", &first).await;
    assert_eq!((rep["accepted"].as_i64(), rep["duplicates"].as_i64()), (Some(4), Some(1)), "{rep}");
    let expected_first = vec![bucket(t0, 3, 12_000, 1000, 8000), bucket(t0 + MIN, 1, 2000, 2000, 2000)];
    assert_eq!(app.store.minute_rows(id, t0 - DAY, t0 + DAY).await.unwrap(), expected_first);
    // The same batch again: nothing new, the minutes unchanged.
    let rep = ingest(&app, &key, "S-H2S-01", &first).await;
    assert_eq!((rep["accepted"].as_i64(), rep["duplicates"].as_i64()), (Some(0), Some(5)), "{rep}");
    assert_eq!(app.store.minute_rows(id, t0 - DAY, t0 + DAY).await.unwrap(), expected_first);

    // Late readings: one into the first minute, one ten minutes back; one beyond the range, stored
    // and counted as the range's maximum.
    let late = [(t0 + 30_000, 0.5), (t0 - 10 * MIN + 5, 4.0), (t0 + 62_000, 500.0)];
    let rep = ingest(&app, &key, "S-H2S-01", &late).await;
    assert_eq!(rep["accepted"], 3, "{rep}");
    let rows = app.store.minute_rows(id, t0 - DAY, t0 + DAY).await.unwrap();
    assert_eq!(
        rows,
        vec![
            bucket(t0 - 10 * MIN, 1, 4000, 4000, 4000),
            bucket(t0, 4, 12_500, 500, 8000),
            bucket(t0 + MIN, 2, 102_000, 2000, 100_000),
        ]
    );
    assert_eq!(rows[1].mean_milli(), 3125.0);
    // The aggregates agree with the raw readings they come from.
    let readings = app.store.recent_readings(&Scope::Zone, id, 1000).await.unwrap();
    assert_eq!(readings.len(), 7);
    for b in &rows {
        let inside: Vec<i64> =
            readings.iter().filter(|r| r.ts >= b.start && r.ts < b.start + MIN).map(|r| r.value_milli).collect();
        assert_eq!(inside.len() as i64, b.n);
        assert_eq!(inside.iter().sum::<i64>(), b.sum_milli);
    }
    app.cleanup().await;
}
dual!(minute_aggregates, super::aggregates);

async fn retention(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let id = detector(&app, &staff, "S-H2S-02").await;
    let key = api_key(&staff).await;
    let t0 = app.clock.now_ms();
    // Readings of four days, three of them uploaded late by a store-and-forward gateway, and a
    // burst three days back larger than one prune batch.
    let mut points: Vec<(i64, f64)> = [3, 2, 1, 0].iter().map(|k| (t0 - k * DAY, 5.0 + *k as f64)).collect();
    let burst = PRUNE_BATCH + 2_000;
    points.extend((0..burst).map(|i| (t0 - 3 * DAY + 1000 + i * 100, 1.0)));
    let rep = ingest(&app, &key, "S-H2S-02", &points).await;
    assert_eq!(rep["accepted"].as_i64(), Some(burst + 4), "{rep}");
    let total = burst + 4;
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings").await, total);

    // The first run, with the default retention, removes nothing. On PostgreSQL it creates the
    // partitions of today and the days ahead, and of the days the default partition caught, moving
    // their rows in.
    let first = app.store.gas_retention(t0, &Retention::default()).await.unwrap();
    assert_eq!((first.readings_deleted, first.minutes_deleted), (0, 0));
    if backend == Backend::Postgres {
        let names: Vec<String> = app.store.reading_partitions().await.unwrap().into_iter().map(|p| p.0).collect();
        for k in [3, 2, 1, 0, -1, -2, -3] {
            let name = Day::of(t0 - k * DAY).partition_name();
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert_eq!(first.rows_moved, total);
        assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings_default").await, 0);
        let again = app.store.gas_retention(t0, &Retention::default()).await.unwrap();
        assert!(again.partitions_created.is_empty() && again.rows_moved == 0, "{again:?}");
    } else {
        assert!(first.partitions_created.is_empty() && first.rows_moved == 0);
    }
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings").await, total);

    // Keep one day of raw readings and two of aggregates.
    let short = Retention::new(1, 2).unwrap();
    let rep = app.store.gas_retention(t0, &short).await.unwrap();
    if backend == Backend::Postgres {
        // Whole days dropped; the day straddling the cutoff stays until all of it is old.
        let dropped = vec![Day::of(t0 - 3 * DAY).partition_name(), Day::of(t0 - 2 * DAY).partition_name()];
        assert_eq!(rep.partitions_dropped, dropped);
        assert_eq!(rep.readings_deleted, 0);
        let names: Vec<String> = app.store.reading_partitions().await.unwrap().into_iter().map(|p| p.0).collect();
        assert!(!names.iter().any(|n| dropped.contains(n)) && names.contains(&Day::of(t0 - DAY).partition_name()));
    } else {
        assert_eq!(rep.readings_deleted, total - 2, "deleted in batches of {PRUNE_BATCH}");
    }
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings").await, 2, "a day back and today remain");
    // The burst's 21 minutes and the single reading's are older than two days.
    assert_eq!(rep.minutes_deleted, 21);
    let minutes = app.store.minute_rows(id, 0, i64::MAX).await.unwrap();
    assert_eq!(minutes.iter().map(|m| m.start).collect::<Vec<_>>(), vec![t0 - 2 * DAY, t0 - DAY, t0]);

    // A late reading of a day already pruned is stored (on PostgreSQL in the default partition), and
    // the next run removes it without creating a partition for a day past retention.
    let rep = ingest(&app, &key, "S-H2S-02", &[(t0 - 2 * DAY + 5000, 9.0)]).await;
    assert_eq!(rep["accepted"], 1);
    if backend == Backend::Postgres {
        assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings_default").await, 1);
    }
    let rep = app.store.gas_retention(t0, &short).await.unwrap();
    assert_eq!(rep.readings_deleted, 1);
    assert!(rep.partitions_created.is_empty() && rep.partitions_dropped.is_empty(), "{rep:?}");
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings").await, 2);

    // A day later the job made the next day's partition ahead and dropped yesterday's.
    app.clock.advance_ms(DAY);
    let rep = app.store.gas_retention(app.clock.now_ms(), &short).await.unwrap();
    if backend == Backend::Postgres {
        assert_eq!(rep.partitions_created, vec![Day::of(t0 + 4 * DAY).partition_name()]);
        assert_eq!(rep.partitions_dropped, vec![Day::of(t0 - DAY).partition_name()]);
    }
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_readings").await, 1, "today's reading remains");
    app.cleanup().await;
}
dual!(retention_job, super::retention);

/// Migration 0015 over readings stored before it: the aggregates are computed from them, and on
/// PostgreSQL they move into the partitioned table (then into their day at the job's first run).
async fn migration(backend: Backend) {
    let Some((url, pg, _dir)) = fresh_database(backend).await else { return };
    let store = Store::connect(&url, Keys::default()).await.unwrap();
    store.migrate_until(14).await.unwrap();
    let t0 = START_MS;
    raw(
        &url,
        &format!(
            "INSERT INTO gas_readings (detector_id, ts, value_milli) VALUES (7, {t0}, 1000), (7, {}, 3000), \
             (7, {}, 5000), (8, {t0}, 2000)",
            t0 + 1000,
            t0 + MIN
        ),
    )
    .await;
    assert_eq!(store.migrate_until(15).await.unwrap(), 1);
    assert_eq!(count(&url, "SELECT COUNT(*) FROM gas_readings").await, 4);
    assert_eq!(
        store.minute_rows(7, 0, i64::MAX).await.unwrap(),
        vec![bucket(t0, 2, 4000, 1000, 3000), bucket(t0 + MIN, 1, 5000, 5000, 5000)]
    );
    assert_eq!(store.minute_rows(8, 0, i64::MAX).await.unwrap(), vec![bucket(t0, 1, 2000, 2000, 2000)]);
    if backend == Backend::Postgres {
        assert_eq!(count(&url, "SELECT COUNT(*) FROM gas_readings_default").await, 4);
        let rep = store.gas_retention(t0, &Retention::default()).await.unwrap();
        assert_eq!(rep.rows_moved, 4);
        assert!(rep.partitions_created.contains(&Day::of(t0).partition_name()));
        assert_eq!(count(&url, "SELECT COUNT(*) FROM gas_readings_default").await, 0);
        assert_eq!(count(&url, &format!("SELECT COUNT(*) FROM {}", Day::of(t0).partition_name())).await, 4);
        // Still one table to the rest of the code: a duplicate is refused across partitions.
        raw(&url, &format!("INSERT INTO gas_readings VALUES (7, {t0}, 9) ON CONFLICT (detector_id, ts) DO NOTHING"))
            .await;
        assert_eq!(count(&url, "SELECT COUNT(*) FROM gas_readings").await, 4);
    }
    store.close().await;
    drop_database(&pg).await;
}
dual!(migration_0015, super::migration);

/// Registration of many detectors at once (`benches/gas.sh`): several statements in one transaction
/// with one audit record, and all or nothing when a tag is taken.
async fn bulk(backend: Backend) {
    use dianxiaoer_core::gas::{DetectorConfig, DetectorSettings, Gas, MeasuringRange, Tag};
    let Some(app) = TestApp::spawn(backend).await else { return };
    let settings = DetectorSettings::default();
    let input = |i: usize| {
        let tag = format!("BULK-{i:04}");
        let range = MeasuringRange::new(0.0, 100.0).unwrap();
        let cfg = DetectorConfig::new(
            Tag::parse(&tag).unwrap(),
            Gas::Combustible,
            Gas::Combustible.default_unit(),
            range,
            &settings,
        )
        .unwrap();
        dianxiaoer_store::DetectorInput {
            enterprise_id: app.fixture.enterprise("a"),
            tag,
            name: format!("可燃气体探测器{i}"),
            location: String::new(),
            plant_area: String::new(),
            position: Some((118.6, 35.8)),
            spec: dianxiaoer_gas::spec::spec(&cfg, &settings),
            status: "active".into(),
            device_secret: None,
        }
    };
    let actor = dianxiaoer_store::Actor::cli();
    let rows: Vec<_> = (0..300).map(input).collect();
    assert_eq!(app.store.insert_detectors_bulk(&actor, &rows, START_MS).await.unwrap(), 300);
    let detectors = app.store.engine_detectors(None).await.unwrap();
    let bulk: Vec<_> = detectors.iter().filter(|d| d.tag.starts_with("BULK-")).collect();
    assert_eq!(bulk.len(), 300);
    assert!(bulk.iter().all(|d| d.active && d.spec.gas == rows[0].spec.gas && d.state.is_none()));
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'bulk_create_gas_detectors'";
    assert_eq!(count(&app.db_url, audited).await, 1);
    // One tag taken among new ones: nothing of the set is registered.
    let again: Vec<_> = (299..450).map(input).collect();
    let err = app.store.insert_detectors_bulk(&actor, &again, START_MS).await.unwrap_err();
    assert!(err.to_string().contains("已登记"), "{err}");
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM gas_detectors WHERE tag LIKE 'BULK-%'").await, 300);
    assert_eq!(count(&app.db_url, audited).await, 1);
    app.cleanup().await;
}
dual!(bulk_registration, super::bulk);
