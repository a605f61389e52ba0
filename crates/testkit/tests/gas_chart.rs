//! What people see of the stored readings, on both backends: the readings chart of a detector (raw
//! hours, aggregated days, set-point lines; its JSON API within scope), the live values of the
//! monitor over server-sent events (within a second, throttled to one per detector per second, only
//! in scope), and the alarm summary on the enterprise file and the home pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

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

async fn detector(app: &TestApp, s: &Session, enterprise: &str, tag: &str) -> i64 {
    let body = json!({"enterprise": app.fixture.enterprise(enterprise), "tag": tag, "name": "硫化氢", "gas": "H2S", "range_max": 100});
    let r = s.post_json("/api/v1/gas/detectors", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn series(s: &Session, id: i64, range: &str) -> (StatusCode, Value) {
    let r = s.get(&format!("/api/v1/gas/detectors/{id}/series?range={range}")).await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn chart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let id = detector(&app, &staff, "a", "C-H2S-01").await;
    let key = api_key(&staff).await;
    let t0 = app.clock.now_ms();
    // The last hour every 30 s (0–9 ppm, repeating), and an hour three days back.
    let recent: Vec<(i64, f64)> = (0..120).map(|k| (t0 - HOUR + k * 30_000, (k % 10) as f64)).collect();
    let old: Vec<(i64, f64)> = (0..120).map(|k| (t0 - 3 * DAY + k * 30_000, 2.0)).collect();
    ingest(&app, &key, "C-H2S-01", &recent).await;
    ingest(&app, &key, "C-H2S-01", &old).await;

    // Hours: the raw readings, with the set-points of GB/T 50493 for H2S.
    let (st, s6) = series(&staff, id, "6h").await;
    assert_eq!(st, StatusCode::OK, "{s6}");
    assert_eq!((s6["source"].as_str(), s6["range"].as_str()), (Some("raw"), Some("6h")));
    assert_eq!(s6["points"].as_array().unwrap().len(), 120);
    assert_eq!(s6["points"][3], json!({"ts": t0 - HOUR + 90_000, "value": 3.0}));
    assert_eq!(s6["set_points"], json!({"kind": "levels", "first": 7.174, "second": 14.349}));
    assert_eq!((s6["from"].as_i64(), s6["to"].as_i64()), (Some(t0 - 6 * HOUR), Some(t0)));
    // Days: 10-minute buckets of the minute aggregates, with the min–max band and the mean.
    let (_, s7) = series(&staff, id, "7d").await;
    assert_eq!((s7["source"].as_str(), s7["bucket_ms"].as_i64()), (Some("minutes"), Some(10 * MIN)));
    let buckets = s7["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 12, "two hours of readings in ten-minute buckets");
    assert_eq!(buckets[0], json!({"ts": t0 - 3 * DAY, "min": 2.0, "max": 2.0, "mean": 2.0, "count": 20}));
    assert_eq!(buckets[6], json!({"ts": t0 - HOUR, "min": 0.0, "max": 9.0, "mean": 4.5, "count": 20}));
    let (_, s30) = series(&staff, id, "30d").await;
    assert_eq!(s30["bucket_ms"], HOUR);
    assert_eq!(s30["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum::<i64>(), 240);
    assert_eq!(series(&staff, id, "1y").await.0, StatusCode::BAD_REQUEST);

    // More raw readings than a chart should draw: hours fall back to the minute aggregates.
    let dense = detector(&app, &staff, "a", "C-H2S-02").await;
    let many: Vec<(i64, f64)> = (0..4_100).map(|k| (t0 - 2 * HOUR + k * 1000, 1.5)).collect();
    ingest(&app, &key, "C-H2S-02", &many).await;
    let (_, d6) = series(&staff, dense, "6h").await;
    assert_eq!((d6["source"].as_str(), d6["bucket_ms"].as_i64()), (Some("minutes"), Some(MIN)));
    assert_eq!(d6["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum::<i64>(), 4_100);

    // Scope: another enterprise's user does not see it; a town official has no gas access.
    let other = app.login("ent_b").await;
    assert_eq!(series(&other, id, "6h").await.0, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("/gas/detectors/{id}?range=24h")).await.status(), StatusCode::NOT_FOUND);
    let own = app.login("ent_a").await;
    assert_eq!(series(&own, id, "24h").await.0, StatusCode::OK);
    let town = app.login("xujiahu").await;
    assert_eq!(series(&town, id, "6h").await.0, StatusCode::FORBIDDEN);

    // The detector page draws it as SVG, with the range selector and the set-point lines.
    let page = staff.get(&format!("/gas/detectors/{id}?range=24h")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for needle in [
        "data-testid=\"chart-svg\"",
        "data-range=\"24h\"",
        "<path class=\"line\" d=\"M",
        "class=\"ref level2\"",
        "二级 14.349",
        "一级 7.174",
        "?range=30d",
        "aria-current=\"true\"",
    ] {
        assert!(html.contains(needle), "{needle} missing from the detector page");
    }
    let html = staff.get(&format!("/gas/detectors/{id}?range=7d")).await.text().await.unwrap();
    assert!(html.contains("<path class=\"band\" d=\"M"), "days show the min–max band");
    assert_eq!(staff.get(&format!("/gas/detectors/{id}?range=2w")).await.status(), StatusCode::BAD_REQUEST);
    app.cleanup().await;
}
dual!(readings_chart, super::chart);

/// Reads the event stream for `wait` and returns the `values` events' entries of detector `id`.
async fn values_of(resp: &mut reqwest::Response, id: i64, wait: Duration, until: Option<f64>) -> Vec<Value> {
    let mut text = String::new();
    let mut found = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        found.clear();
        for block in text.split("\n\n") {
            if !block.lines().any(|l| l == "event: values") {
                continue;
            }
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            let list: Vec<Value> = serde_json::from_str(&data).unwrap_or_default();
            found.extend(list.into_iter().filter(|v| v["detector_id"] == id));
        }
        if until.is_some_and(|u| found.iter().any(|v| v["value"].as_f64() == Some(u))) {
            return found;
        }
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return found,
        }
    }
}

async fn subscribe(s: &Session) -> reqwest::Response {
    let r = s.client.get(s.url("/gas/monitor/events")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r
}

async fn live(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let id = detector(&app, &staff, "a", "L-H2S-01").await;
    let key = api_key(&staff).await;
    let mut zone = subscribe(&staff).await;
    let other = app.login("ent_b").await;
    let mut outside = subscribe(&other).await;
    let t0 = app.clock.now_ms();

    // A new value reaches the monitor within a second.
    let sent = Instant::now();
    ingest(&app, &key, "L-H2S-01", &[(t0, 3.5)]).await;
    let got = values_of(&mut zone, id, Duration::from_secs(2), Some(3.5)).await;
    let latency = sent.elapsed();
    assert_eq!(got.last().map(|v| (v["ts"].as_i64(), v["value"].as_f64())), Some((Some(t0), Some(3.5))), "{got:?}");
    assert!(latency < Duration::from_secs(1), "value shown after {latency:?}");

    // A flood of 40 readings from the device: at most one value per second reaches the stream, and
    // the last one shown is the newest reading.
    let flood = Instant::now();
    for k in 1..=40 {
        ingest(&app, &key, "L-H2S-01", &[(t0 + k * 25, k as f64 / 10.0)]).await;
    }
    let got = values_of(&mut zone, id, Duration::from_millis(2500), Some(4.0)).await;
    let window = flood.elapsed().as_secs_f64();
    assert_eq!(got.last().and_then(|v| v["value"].as_f64()), Some(4.0), "{got:?}");
    assert!((got.len() as f64) <= window.floor() + 1.0, "{} values in {window:.2} s: {got:?}", got.len());
    // A late reading does not move the value shown.
    ingest(&app, &key, "L-H2S-01", &[(t0 - 5000, 9.0)]).await;
    let got = values_of(&mut zone, id, Duration::from_millis(1500), None).await;
    assert!(got.iter().all(|v| v["value"].as_f64() != Some(9.0)), "{got:?}");
    // Nothing of it outside the scope.
    assert!(values_of(&mut outside, id, Duration::from_millis(300), None).await.is_empty());

    // The monitor's table cells the stream updates, with the value stored.
    let page = staff.get("/gas/monitor").await.text().await.unwrap();
    assert!(page.contains("data-role=\"value\">4 ppm<"), "the monitor shows the latest value");
    app.cleanup().await;
}
dual!(live_values, super::live);

async fn summary(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    detector(&app, &staff, "a", "Y-H2S-01").await;
    detector(&app, &staff, "a", "Y-H2S-02").await;
    let key = api_key(&staff).await;
    let t0 = app.clock.now_ms();
    // One 二级 alarm (20 ppm over 14.3) and one 一级 (10 ppm over 7.2) at enterprise a.
    ingest(&app, &key, "Y-H2S-01", &[(t0, 20.0)]).await;
    ingest(&app, &key, "Y-H2S-02", &[(t0, 10.0)]).await;
    let (a, b) = (app.fixture.enterprise("a"), app.fixture.enterprise("b"));
    let s = app.store.alarm_summary(&Scope::Zone, Some(a), t0 - DAY).await.unwrap();
    assert_eq!(
        (s.detectors, s.offline, s.open, s.active_level2, s.active_level1, s.unacknowledged, s.raised_since),
        (2, 0, 2, 1, 1, 2, 2)
    );
    let none = app.store.alarm_summary(&Scope::Enterprise(b), None, t0 - DAY).await.unwrap();
    assert_eq!(none, Default::default());
    assert_eq!(app.store.alarm_summary(&Scope::Enterprise(b), Some(a), 0).await.unwrap().open, 0, "scope holds");

    // The enterprise file and the home pages show it.
    let file = staff.get(&format!("/enterprises/{a}")).await.text().await.unwrap();
    assert!(file.contains("data-testid=\"enterprise-gas\"") && file.contains("二级 1"), "enterprise file");
    assert!(file.contains("data-testid=\"gas-open\">2（未确认 2）"), "enterprise file counts");
    let leader = app.login("leader").await.get("/").await.text().await.unwrap();
    assert!(leader.contains("data-testid=\"home-gas\"") && leader.contains("持续中的二级报警"), "leader home");
    let home_b = app.login("ent_b").await.get("/").await.text().await.unwrap();
    assert!(home_b.contains("data-testid=\"home-gas\""), "an enterprise sees its own summary");
    let town = app.login("xujiahu").await.get("/").await.text().await.unwrap();
    assert!(!town.contains("home-gas"), "no summary for roles without gas access");
    app.cleanup().await;
}
dual!(alarm_summary, super::summary);
