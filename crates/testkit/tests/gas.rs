//! Toxic-gas early warning end to end, on both backends: detectors registered through the API and the
//! pages, readings through the HTTP batch ingest with an API key, the engine's alarms (raise, level,
//! repeats, duplicates, late readings, offline on the clock's tick), the operator lifecycle with
//! audit records, data scope, and bad payloads that never answer 5xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An API key of `user`, created through the account API.
async fn api_key(app: &TestApp, user: &str) -> String {
    let s = app.login(user).await;
    let r = s.post_json("/api/v1/api-keys", &json!({"name": "采集网关"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned()
}

/// Posts a body to the ingest endpoint with an API key.
async fn post_raw(app: &TestApp, key: &str, query: &str, body: Vec<u8>, ct: Option<&str>) -> (StatusCode, Value) {
    let mut req =
        reqwest::Client::new().post(app.url(&format!("/api/v1/gas/readings{query}"))).bearer_auth(key).body(body);
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    assert!(!status.is_server_error(), "{status}");
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn ingest(app: &TestApp, key: &str, query: &str, body: &Value) -> (StatusCode, Value) {
    post_raw(app, key, query, serde_json::to_vec(body).unwrap(), Some("application/json")).await
}

fn readings(tag: &str, points: &[(i64, f64)]) -> Value {
    json!({"readings": points.iter().map(|(ts, v)| json!({"tag": tag, "ts": ts, "value": v})).collect::<Vec<_>>()})
}

async fn create_detector(s: &Session, body: Value) -> Value {
    let r = s.post_json("/api/v1/gas/detectors", &body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn alarms_of(s: &Session, detector: i64) -> Vec<Value> {
    let v: Value = s.get(&format!("/api/v1/gas/alarms?detector={detector}&per_page=100")).await.json().await.unwrap();
    v["items"].as_array().unwrap().clone()
}

async fn detector_alarms(s: &Session, detector: i64, kind: &str) -> Vec<Value> {
    alarms_of(s, detector).await.into_iter().filter(|a| a["kind"] == kind).collect()
}

async fn action(s: &Session, id: i64, what: &str, body: Value) -> (StatusCode, Value) {
    let r = s.post_json(&format!("/api/v1/gas/alarms/{id}/{what}"), &body).await;
    (r.status(), r.json().await.unwrap())
}

async fn story(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (a, b) = (app.fixture.enterprise("a"), app.fixture.enterprise("b"));
    let staff = app.login("staff").await;

    // Registry: defaults from the gas table, Chinese field errors, unique tags.
    let h2s = create_detector(
        &staff,
        json!({"enterprise": a, "tag": "A-H2S-01", "name": "罐区硫化氢", "gas": "H2S", "range_max": 100}),
    )
    .await;
    assert_eq!(h2s["spec"]["unit"], "ppm");
    assert_eq!(
        (h2s["spec"]["set_point1_milli"].as_i64(), h2s["spec"]["set_point2_milli"].as_i64()),
        (Some(7174), Some(14_349))
    );
    let h2s_id = h2s["id"].as_i64().unwrap();
    let strict = create_detector(
        &staff,
        json!({"enterprise": a, "tag": "A-H2S-02", "name": "装车台硫化氢", "gas": "h2s", "out_of_range": "reject"}),
    )
    .await;
    assert_eq!(strict["spec"]["out_of_range"], "reject");
    let o2 =
        create_detector(&staff, json!({"enterprise": a, "tag": "A-O2-01", "name": "受限空间氧气", "gas": "O2"})).await;
    assert_eq!((o2["spec"]["unit"].as_str(), o2["spec"]["set_point1_milli"].as_i64()), (Some("%VOL"), Some(19_500)));
    let ex = create_detector(
        &staff,
        json!({"enterprise": b, "tag": "B-EX-01", "name": "可燃气体", "gas": "EX", "unit": "%LEL"}),
    )
    .await;
    assert_eq!(ex["spec"]["set_point2_milli"], 50_000);
    let r = staff
        .post_json("/api/v1/gas/detectors", &json!({"enterprise": a, "tag": "A-H2S-01", "name": "重复", "gas": "CO"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["errors"]["tag"], "位号“A-H2S-01”已登记");
    let bad = json!({"enterprise": a, "tag": "A-X", "name": "x", "gas": "H2S", "unit": "%VOL", "set_point1": "abc"});
    let p: Value = staff.post_json("/api/v1/gas/detectors", &bad).await.json().await.unwrap();
    assert_eq!(p["errors"]["unit"], "硫化氢不使用 %VOL 设定报警值，可燃气体请用 %LEL");
    assert_eq!(p["errors"]["set_point1"], "报警设定值应为数字");

    // A rising H2S leak through the HTTP batch ingest.
    let key = api_key(&app, "staff").await;
    let t0 = app.clock.now_ms();
    let batch1 = readings("A-H2S-01", &[(t0, 1.0), (t0 + 1000, 3.0), (t0 + 2000, 8.0)]);
    let (st, rep) = ingest(&app, &key, "", &batch1).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{rep}");
    assert_eq!((rep["accepted"].as_u64(), rep["duplicates"].as_u64()), (Some(3), Some(0)));
    let (_, rep) = ingest(&app, &key, "", &readings("A-H2S-01", &[(t0 + 3000, 9.0), (t0 + 4000, 16.0)])).await;
    assert_eq!(rep["accepted"], 2);
    let gas_alarms = detector_alarms(&staff, h2s_id, "gas").await;
    assert_eq!(gas_alarms.len(), 1, "exactly one alarm for the rising leak");
    assert_eq!(gas_alarms[0]["level"], 2, "raised to 二级");
    let alarm_id = gas_alarms[0]["id"].as_i64().unwrap();
    // Duplicates are ignored; a late reading is stored but does not rewind.
    let (_, rep) = ingest(&app, &key, "", &batch1).await;
    assert_eq!((rep["accepted"].as_u64(), rep["duplicates"].as_u64()), (Some(0), Some(3)));
    let (_, rep) = ingest(&app, &key, "", &readings("A-H2S-01", &[(t0 + 500, 0.0), (t0 + 500, 0.0)])).await;
    assert_eq!((rep["accepted"].as_u64(), rep["duplicates"].as_u64()), (Some(1), Some(1)));
    let d: Value = staff.get(&format!("/api/v1/gas/detectors/{h2s_id}")).await.json().await.unwrap();
    assert_eq!((d["last_value_milli"].as_i64(), d["last_ts"].as_i64()), (Some(16_000), Some(t0 + 4000)));
    let rs: Value = staff.get(&format!("/api/v1/gas/detectors/{h2s_id}/readings")).await.json().await.unwrap();
    assert_eq!(rs.as_array().unwrap().len(), 6);
    // Back to normal for the off-delay, then up again: a repeat of the same alarm.
    let low = [(t0 + 5000, 0.5), (t0 + 6000, 0.5), (t0 + 7000, 0.5)];
    ingest(&app, &key, "", &readings("A-H2S-01", &low)).await;
    let a0 = &detector_alarms(&staff, h2s_id, "gas").await[0];
    assert_eq!((a0["active"].as_bool(), a0["level"].as_i64()), (Some(false), Some(2)));
    ingest(&app, &key, "", &readings("A-H2S-01", &[(t0 + 8000, 9.0)])).await;
    let alarms = detector_alarms(&staff, h2s_id, "gas").await;
    assert_eq!(alarms.len(), 1);
    assert_eq!((alarms[0]["repeats"].as_i64(), alarms[0]["active"].as_bool()), (Some(1), Some(true)));

    // A second engine on the same SQLite store resumes from the saved state: no second alarm.
    {
        let options = dianxiaoer_gas::Options { tick_every: None, refresh_every: None, queue: 4 };
        let again = dianxiaoer_gas::start(app.store.clone(), app.state.clock_fn(), options).await.unwrap();
        let p = dianxiaoer_core::gas::payload::parse(
            readings("A-H2S-01", &[(t0 + 8500, 9.5)]).to_string().as_bytes(),
            dianxiaoer_core::gas::payload::Format::Own,
            t0,
        )
        .unwrap();
        let rep = again.submit(p, None, dianxiaoer_gas::Allowed::All).await;
        if backend == Backend::Postgres {
            // On PostgreSQL the first engine holds the leadership: the second stands by (the
            // takeover itself is crates/cli/tests/failover.rs).
            assert_eq!(rep, Err(dianxiaoer_gas::IngestError::Unavailable));
        } else {
            assert_eq!(rep.unwrap().accepted, 1);
            assert_eq!(detector_alarms(&staff, h2s_id, "gas").await.len(), 1);
        }
    }

    // Refusals one by one, with reasons; good readings of the same batch are kept.
    let mixed = json!({"readings": [
        {"tag": "NOPE-1", "value": 1.0},
        {"tag": "A-H2S-01", "value": 1.0, "ts": t0 + 600_000},
        {"tag": "A-H2S-01", "value": 1.0, "ts": t0 - 8 * 86_400_000},
        {"tag": "A-H2S-02", "value": 150.0},
        {"tag": "A-H2S-01", "value": 9.0, "ts": t0 + 10_000},
        {"tag": "A-O2-01", "fault": 3},
    ]});
    let (st, rep) = ingest(&app, &key, "", &mixed).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!((rep["accepted"].as_u64(), rep["rejected_total"].as_u64()), (Some(2), Some(4)), "{rep}");
    let reasons: Vec<String> = rep["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["tag"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons[0], "NOPE-1 未登记的位号");
    assert!(reasons[1].contains("超前 300 秒以上，已拒收"), "{reasons:?}");
    assert!(reasons[2].contains("早于服务器时间 168 小时以上"), "{reasons:?}");
    assert_eq!(reasons[3], "A-H2S-02 读数 150 超出量程 0～100，已拒收");
    assert_eq!(detector_alarms(&staff, o2["id"].as_i64().unwrap(), "fault").await.len(), 1);
    let counts = app.gas.engine().counters().get("A-H2S-01");
    assert!(counts.accepted >= 8 && counts.duplicates == 4 && counts.rejected == 2, "{counts:?}");

    // ThingsBoard device and gateway telemetry.
    let (st, rep) = ingest(
        &app,
        &key,
        "?format=thingsboard&device=B-EX-01",
        &json!({"ts": t0, "values": {"ex": 30, "temperature": 21}}),
    )
    .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(rep["accepted"], 1);
    assert!(rep["rejected"][0]["reason"].as_str().unwrap().starts_with("未知的遥测键“temperature”"));
    assert_eq!(detector_alarms(&staff, ex["id"].as_i64().unwrap(), "gas").await[0]["level"], 1);
    let (_, rep) =
        ingest(&app, &key, "?format=thingsboard-gateway", &json!({"A-O2-01": [{"ts": t0, "values": {"o2": 20.9}}]}))
            .await;
    assert_eq!(rep["accepted"], 1);

    // The lifecycle, through the API: Chinese refusals out of order, then acknowledge, dispose, close.
    let (st, p) = action(&staff, alarm_id, "close", json!({})).await;
    assert_eq!((st, p["detail"].as_str()), (StatusCode::CONFLICT, Some("报警尚未处置，请先填写处置情况再关闭")));
    let (_, p) = action(&staff, alarm_id, "dispose", json!({"note": "关阀"})).await;
    assert_eq!(p["detail"], "请先确认报警，再填写处置情况");
    let (st, a1) = action(&staff, alarm_id, "ack", json!({})).await;
    assert_eq!((st, a1["acked_by"].as_str()), (StatusCode::OK, Some("staff")));
    let (_, p) = action(&staff, alarm_id, "ack", json!({})).await;
    assert_eq!(p["detail"], "该气体浓度报警已确认");
    let (_, p) = action(&staff, alarm_id, "dispose", json!({"note": "  "})).await;
    assert_eq!(p["detail"], "请填写处置情况");
    let (st, a2) = action(&staff, alarm_id, "dispose", json!({"note": "关闭阀门，强制通风"})).await;
    assert_eq!((st, a2["disposal_note"].as_str()), (StatusCode::OK, Some("关闭阀门，强制通风")));
    let (_, p) = action(&staff, alarm_id, "close", json!({})).await;
    assert_eq!(p["detail"], "气体浓度仍未恢复正常，报警未消除，不能关闭");
    ingest(&app, &key, "", &readings("A-H2S-01", &[(t0 + 11_000, 0.5), (t0 + 12_000, 0.5), (t0 + 13_000, 0.5)])).await;
    let (st, a3) = action(&staff, alarm_id, "close", json!({})).await;
    assert_eq!((st, a3["closed_by"].as_str()), (StatusCode::OK, Some("staff")));
    let (st, _) = action(&staff, alarm_id, "ack", json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // The next leak opens a new alarm.
    ingest(&app, &key, "", &readings("A-H2S-01", &[(t0 + 14_000, 9.0)])).await;
    let all = detector_alarms(&staff, h2s_id, "gas").await;
    assert_eq!(all.len(), 2);
    assert!(all[0]["closed_at"].is_null() && all[0]["level"] == 1 && all[1]["id"] == alarm_id);

    // Every transition has an event and an audit record.
    let v: Value = staff.get(&format!("/api/v1/gas/alarms/{alarm_id}")).await.json().await.unwrap();
    let events: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        ["raised", "level_raised", "cleared", "repeated", "acknowledged", "disposed", "cleared", "closed"]
    );
    let audit = app
        .store
        .list_audit(
            &dianxiaoer_store::AuditFilter {
                object_type: Some("gas_alarm".into()),
                object_id: Some(alarm_id.to_string()),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .unwrap();
    let mut actions: Vec<(String, String)> =
        audit.items.iter().map(|r| (r.action.clone(), r.username.clone())).collect();
    actions.reverse();
    assert_eq!(actions.len(), 8, "{actions:?}");
    assert_eq!(actions[0], ("gas_alarm_raised".to_owned(), "报警引擎".to_owned()));
    assert_eq!(actions[4], ("gas_alarm_acknowledged".to_owned(), "staff".to_owned()));
    assert_eq!(actions[7], ("gas_alarm_closed".to_owned(), "staff".to_owned()));
    assert!(app.store.verify_audit_chain().await.unwrap().problem.is_none());

    // No message for 3 intervals: the engine's tick raises the offline alarm without any message.
    assert_eq!(app.gas.engine().tick().await.unwrap(), 0);
    app.clock.advance_ms(91_000);
    assert!(app.gas.engine().tick().await.unwrap() > 0);
    let offline = detector_alarms(&staff, h2s_id, "offline").await;
    assert_eq!(offline.len(), 1);
    let offline_id = offline[0]["id"].as_i64().unwrap();
    let d: Value = staff.get(&format!("/api/v1/gas/detectors/{h2s_id}")).await.json().await.unwrap();
    assert_eq!(d["offline"], true);
    // Acknowledged through the page's form.
    let r = staff.post_form(&format!("/gas/alarms/{offline_id}/ack"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = staff.post_form(&format!("/gas/alarms/{offline_id}/close"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("报警尚未处置，请先填写处置情况再关闭"));
    let r = staff.post_form(&format!("/gas/alarms/{offline_id}/dispose"), &[("note", "检查通信线路")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let now = app.clock.now_ms();
    ingest(&app, &key, "", &readings("A-H2S-01", &[(now, 0.2)])).await;
    let r = staff.post_form(&format!("/gas/alarms/{offline_id}/close"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Editing: custom set-points replace the defaults, in the store and in the running engine.
    let sid = strict["id"].as_i64().unwrap();
    let body = json!({"enterprise": a, "tag": "A-H2S-02", "name": "装车台硫化氢（改）", "gas": "H2S",
                      "set_point1": 5, "set_point2": "10.5", "out_of_range": "reject", "interval_s": 60});
    let r = staff.post_json(&format!("/api/v1/gas/detectors/{sid}"), &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["spec"]["set_points_custom"].as_bool()),
        (Some("装车台硫化氢（改）"), Some(true))
    );
    assert_eq!(
        (v["spec"]["set_point1_milli"].as_i64(), v["spec"]["set_point2_milli"].as_i64()),
        (Some(5000), Some(10_500))
    );
    let now = app.clock.now_ms();
    ingest(&app, &key, "", &readings("A-H2S-02", &[(now, 6.0)])).await;
    assert_eq!(detector_alarms(&staff, sid, "gas").await.len(), 1, "6 ppm is above the new level 1");
    let form =
        [("enterprise", a.to_string()), ("tag", "A-H2S-02".into()), ("name", "装车台".into()), ("gas", "H2S".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = staff.post_form(&format!("/gas/detectors/{sid}/edit"), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: Value = staff.get(&format!("/api/v1/gas/detectors/{sid}")).await.json().await.unwrap();
    assert_eq!((v["name"].as_str(), v["spec"]["set_points_custom"].as_bool()), (Some("装车台"), Some(false)));
    let edits = app
        .store
        .list_audit(
            &dianxiaoer_store::AuditFilter { action: Some("update_gas_detector".into()), ..Default::default() },
            1,
            10,
        )
        .await
        .unwrap();
    assert_eq!(edits.total, 2);

    // The pages.
    for path in [
        "/gas/detectors".to_owned(),
        format!("/gas/detectors/{h2s_id}"),
        format!("/gas/detectors/{h2s_id}/edit"),
        "/gas/detectors/new".to_owned(),
        "/gas/alarms".to_owned(),
        "/gas/alarms?status=closed&level=2&kind=gas".to_owned(),
        format!("/gas/alarms/{alarm_id}"),
    ] {
        let r = staff.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.text().await.unwrap().contains("A-H2S-01") || path.ends_with("new"), "{path}");
    }
    let r = staff.get("/gas/detectors/export.xlsx?gas=H2S").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = staff
        .post_form(
            "/gas/detectors",
            &[("enterprise", &a.to_string()), ("tag", "A CO"), ("gas", "CO"), ("range_max", "5")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("位号不能包含空格或控制字符") && html.contains("请填写名称") && html.contains("value=\"5\""),
        "{html}"
    );
    let form =
        [("enterprise", a.to_string()), ("tag", "A-CO-01".into()), ("name", "一氧化碳".into()), ("gas", "CO".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = staff.post_form("/gas/detectors", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.gas.engine().loaded().await, (5, 5));
    app.cleanup().await;
}
dual!(gas_story, super::story);

async fn scope(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (a, b) = (app.fixture.enterprise("a"), app.fixture.enterprise("b"));
    let staff = app.login("staff").await;
    let da = create_detector(&staff, json!({"enterprise": a, "tag": "A-1", "name": "甲", "gas": "H2S"})).await["id"]
        .as_i64()
        .unwrap();
    let db = create_detector(&staff, json!({"enterprise": b, "tag": "B-1", "name": "乙", "gas": "H2S"})).await["id"]
        .as_i64()
        .unwrap();
    let key = api_key(&app, "staff").await;
    let t0 = app.clock.now_ms();
    ingest(
        &app,
        &key,
        "",
        &json!({"readings": [{"tag": "A-1", "value": 20.0, "ts": t0}, {"tag": "B-1", "value": 20.0, "ts": t0}]}),
    )
    .await;
    let alarm_of = |v: Vec<Value>| v[0]["id"].as_i64().unwrap();
    let (aa, ab) = (alarm_of(alarms_of(&staff, da).await), alarm_of(alarms_of(&staff, db).await));

    let ids =
        |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect() };
    for (user, det, alarm) in
        [("leader", vec![da, db], vec![aa, ab]), ("ent_a", vec![da], vec![aa]), ("supervisor", vec![db], vec![ab])]
    {
        let s = app.login(user).await;
        let mut got = ids(&s.get("/api/v1/gas/detectors").await.json().await.unwrap());
        got.sort_unstable();
        assert_eq!(got, det, "{user} detectors");
        let mut got = ids(&s.get("/api/v1/gas/alarms").await.json().await.unwrap());
        got.sort_unstable();
        assert_eq!(got, alarm, "{user} alarms");
        for (d, x) in [(da, aa), (db, ab)] {
            let want = if det.contains(&d) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(s.get(&format!("/api/v1/gas/detectors/{d}")).await.status(), want, "{user} {d}");
            assert_eq!(s.get(&format!("/gas/detectors/{d}")).await.status(), want, "{user} page {d}");
            assert_eq!(s.get(&format!("/api/v1/gas/alarms/{x}")).await.status(), want, "{user} alarm {x}");
        }
        let html = s.get("/gas/detectors").await.text().await.unwrap();
        assert_eq!(html.contains("B-1"), det.contains(&db), "{user} list page");
    }
    // Leadership reads, does not operate; admins see nothing.
    let leader = app.login("leader").await;
    assert_eq!(action(&leader, aa, "ack", json!({})).await.0, StatusCode::FORBIDDEN);
    let admin = app.login("admin").await;
    assert_eq!(admin.get("/gas/alarms").await.status(), StatusCode::FORBIDDEN);
    // An enterprise acts on its own alarms only, registers for itself only, feeds its own tags only.
    let ent = app.login("ent_a").await;
    assert_eq!(action(&ent, ab, "ack", json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(action(&ent, aa, "ack", json!({})).await.0, StatusCode::OK);
    let own = create_detector(&ent, json!({"tag": "A-2", "name": "自有", "gas": "O2"})).await;
    assert_eq!(own["enterprise_id"], a);
    let r =
        ent.post_json("/api/v1/gas/detectors", &json!({"enterprise": b, "tag": "A-3", "name": "x", "gas": "O2"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["errors"]["enterprise"], "只能为本人数据范围内的企业登记探测器");
    let r =
        ent.post_json(&format!("/api/v1/gas/detectors/{db}"), &json!({"tag": "B-1", "name": "改", "gas": "H2S"})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let ent_key = api_key(&app, "ent_a").await;
    let (_, rep) = ingest(
        &app,
        &ent_key,
        "",
        &json!({"readings": [{"tag": "B-1", "value": 1.0}, {"tag": "A-1", "value": 1.0, "ts": t0 + 1000}]}),
    )
    .await;
    assert_eq!((rep["accepted"].as_u64(), rep["rejected"][0]["reason"].as_str()), (Some(1), Some("未登记的位号")));
    // The supervisor handles its assigned enterprise's alarm.
    let sup = app.login("supervisor").await;
    assert_eq!(action(&sup, ab, "ack", json!({})).await.0, StatusCode::OK);
    assert_eq!(action(&sup, aa, "ack", json!({})).await.0, StatusCode::NOT_FOUND);
    // A key of a role without the ingest permission is refused.
    let leader_key = api_key(&app, "leader").await;
    let (st, _) = ingest(&app, &leader_key, "", &json!({"readings": []})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    app.cleanup().await;
}
dual!(gas_scope, super::scope);

/// (query, body, content type, expected status, what the problem's detail says).
type Case = (&'static str, Vec<u8>, Option<&'static str>, StatusCode, &'static str);

async fn bad_payloads(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let d = create_detector(
        &staff,
        json!({"enterprise": app.fixture.enterprise("a"), "tag": "A-1", "name": "甲", "gas": "H2S"}),
    )
    .await;
    let key = api_key(&app, "staff").await;
    let big = {
        let item = json!({"tag": "A-1", "value": 1.0}).to_string();
        let n = 2 * 1024 * 1024 / item.len() + 1;
        format!("{{\"readings\": [{}]}}", vec![item; n].join(",")).into_bytes()
    };
    let cases: Vec<Case> = vec![
        ("", b"hello".to_vec(), Some("application/json"), StatusCode::BAD_REQUEST, "不是有效的 JSON"),
        (
            "",
            br#"{"readings": [{"tag": "A-1", "value": "NaN"}]}"#.to_vec(),
            None,
            StatusCode::BAD_REQUEST,
            "不接受 NaN",
        ),
        ("", br#"{"readings": [{"tag": "A-1", "value": NaN}]}"#.to_vec(), None, StatusCode::BAD_REQUEST, "NaN"),
        ("", br#"{"readings": "A-1"}"#.to_vec(), None, StatusCode::BAD_REQUEST, "readings 应为数组"),
        ("", br#"{"readings": [{"tag": 5, "value": 1}]}"#.to_vec(), None, StatusCode::BAD_REQUEST, "应为字符串"),
        ("", br#"{"readings": [{"tag": "A-1", "value": true}]}"#.to_vec(), None, StatusCode::BAD_REQUEST, "应为数字"),
        (
            "",
            br#"{"readings": [{"tag": "A-1", "value": 1, "ts": -5}]}"#.to_vec(),
            None,
            StatusCode::BAD_REQUEST,
            "不能为负数",
        ),
        ("", b"".to_vec(), None, StatusCode::BAD_REQUEST, "报文为空"),
        (
            "",
            br#"{"readings": []}"#.to_vec(),
            Some("text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
        ("?format=csv", br#"{"readings": []}"#.to_vec(), None, StatusCode::BAD_REQUEST, "format 应为"),
        ("?format=thingsboard", br#"{"h2s": 1}"#.to_vec(), None, StatusCode::BAD_REQUEST, "device"),
        (
            "?format=thingsboard&device=A%201",
            br#"{"h2s": 1}"#.to_vec(),
            None,
            StatusCode::BAD_REQUEST,
            "位号不能包含空格",
        ),
        ("?format=thingsboard-gateway", b"[1]".to_vec(), None, StatusCode::BAD_REQUEST, "网关报文应为"),
    ];
    for (query, body, ct, want, says) in cases {
        let (st, p) = post_raw(&app, &key, query, body, ct).await;
        assert_eq!(st, want, "{query} {p}");
        assert!(p["detail"].as_str().is_some_and(|d| d.contains(says)), "{query}: {p}");
    }
    // 2 MB: refused before it is read whole (the server may close the connection while the client
    // is still sending, which the client sees as an error instead of the 413).
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/gas/readings"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let p: Value = r.json().await.unwrap();
        assert!(p["detail"].as_str().unwrap().contains("1 MiB"), "{p}");
    }
    // Nothing was stored, and the refusals were counted.
    let rs: Value = staff.get(&format!("/api/v1/gas/detectors/{}/readings", d["id"])).await.json().await.unwrap();
    assert_eq!(rs.as_array().unwrap().len(), 0);
    assert!(app.gas.engine().counters().get("api:staff").malformed >= 10);
    // Without a key: 401, as a problem document.
    let r = reqwest::Client::new().post(app.url("/api/v1/gas/readings")).body("{}").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}
dual!(gas_bad_payloads, super::bad_payloads);
