//! The live monitor on both backends: the page colours each detector by its worst active condition,
//! and the server-sent event stream delivers the engine's events within a second, only for detectors
//! in the subscriber's scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// Reads the event stream until `needle` appears or `wait` passes; returns what was read.
async fn read_until(resp: &mut reqwest::Response, needle: &str, wait: Duration) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while !text.contains(needle) {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    text
}

async fn subscribe(s: &Session) -> reqwest::Response {
    let r = s.client.get(s.url("/gas/monitor/events")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    r
}

async fn monitor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let a = app.fixture.enterprise("a");
    let staff = app.login("staff").await;
    let r = staff
        .post_json(
            "/api/v1/gas/detectors",
            &json!({"enterprise": a, "tag": "M-H2S-01", "name": "罐区硫化氢", "gas": "H2S", "range_max": 100}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let key = staff.post_json("/api/v1/api-keys", &json!({"name": "网关"})).await.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();

    // Subscribers: staff (whole zone) and the other enterprise's user (no detector of its own here).
    let mut zone = subscribe(&staff).await;
    let other = app.login("ent_b").await;
    let mut outside = subscribe(&other).await;

    let t0 = app.clock.now_ms();
    let body = json!({"readings": [{"tag": "M-H2S-01", "ts": t0, "value": 20.0}]});
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/gas/readings"))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    let seen = read_until(&mut zone, "\"raised\"", Duration::from_secs(3)).await;
    assert!(seen.contains("event: gas") && seen.contains("M-H2S-01") && seen.contains("\"level\":\"2\""), "{seen}");
    let theirs = read_until(&mut outside, "M-H2S-01", Duration::from_millis(800)).await;
    assert!(!theirs.contains("M-H2S-01"), "an event outside scope leaked: {theirs}");

    // The page shows the detector in 二级 at the top, with the count.
    let page = staff.get("/gas/monitor").await.text().await.unwrap();
    assert!(page.contains("data-state=\"level2\"") && page.contains("二级报警"), "monitor page");
    assert!(page.contains("data-testid=\"gas-map\"") && page.contains("庐山化工园区"), "the map with the park");
    let page = other.get("/gas/monitor").await.text().await.unwrap();
    assert!(!page.contains("M-H2S-01"), "the page is scoped too");
    // Roles without gas access get neither.
    let town = app.login("xujiahu").await;
    assert_eq!(town.get("/gas/monitor/events").await.status(), StatusCode::FORBIDDEN);
    app.cleanup().await;
}
dual!(live_monitor, super::monitor);

/// Excel import of detectors: defaults from the gas table, every bad cell, all or none, taken up by
/// the engine at once; an enterprise user imports for itself only.
async fn import(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let code_a = app.store.credit_code_of(app.fixture.enterprise("a")).await.unwrap().unwrap();
    let sheet = |rows: &[[&str; 5]]| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["企业统一社会信用代码", "位号", "名称", "气体", "量程上限"].iter().enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    };
    let upload = |s: &Session, bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("探测器.xlsx");
        s.client
            .post(s.url("/api/v1/gas/detectors/import"))
            .header("x-csrf-token", &s.csrf)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let bad = sheet(&[[&code_a, "I-H2S-01", "罐区硫化氢", "H2S", "100"], [&code_a, "I-H2S-01", "重复", "XYZ", "abc"]]);
    let r = upload(&staff, bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    let cells = p["errors"]["cells"].as_array().unwrap();
    assert!(cells.iter().any(|c| c["row"] == 3 && c["column"] == "位号"), "{p}");
    assert!(cells.iter().any(|c| c["row"] == 3 && c["column"] == "气体"), "{p}");
    let before: Value = staff.get("/api/v1/gas/detectors").await.json().await.unwrap();
    let good = sheet(&[
        [&code_a, "I-H2S-01", "罐区硫化氢", "H2S", "100"],
        [&code_a, "I-EX-01", "装置区可燃气体", "EX", "100"],
    ]);
    let r = upload(&staff, good.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let after: Value = staff.get("/api/v1/gas/detectors").await.json().await.unwrap();
    assert_eq!(after["total"].as_i64().unwrap(), before["total"].as_i64().unwrap() + 2);
    let r = upload(&staff, good).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "tags already registered are refused");
    // The engine knows the new detector at once: a reading over 二级 raises an alarm.
    let key = staff.post_json("/api/v1/api-keys", &json!({"name": "网关"})).await.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"readings": [{"tag": "I-H2S-01", "ts": app.clock.now_ms(), "value": 30.0}]});
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/gas/readings"))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["accepted"], 1, "{rep}");
    // An enterprise user may leave the enterprise blank (its own) and cannot import for another.
    let ent = app.login("ent_b").await;
    let r = upload(&ent, sheet(&[["", "I-B-01", "自有探测器", "CO", "200"]])).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = upload(&ent, sheet(&[[&code_a, "I-B-02", "别家探测器", "CO", "200"]])).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.login("xujiahu").await.get("/gas/detectors/import").await.status(), StatusCode::FORBIDDEN);
    app.cleanup().await;
}
dual!(detector_import, super::import);
