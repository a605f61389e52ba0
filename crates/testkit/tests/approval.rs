//! Independent approval over HTTP on both backends: the public service guides; staff editing an item
//! into a new version while cases keep theirs; an enterprise filing a case that staff accept with a
//! deadline from the working-day calendar (after-hours receipt counts from the next working day), 补正
//! pausing and resuming the clock, decision and completion; refusals by role (403) and by state or
//! materials (422) in Chinese with nothing written; 容缺 only where the item allows it; scope; audit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::{Pause, WorkingDays};
use dianxiaoer_store::AuditFilter;
use dianxiaoer_testkit::{Backend, START_MS, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;
/// 食品生产许可: promised 5 working days, 容缺 allowed.
const FOOD: &str = "371323-GS-005";
/// 企业设立登记: 容缺 allowed; one non-key material handed in by the applicant.
const SETUP: &str = "371323-GS-001";
/// 特种设备使用登记: no 容缺.
const BOILER: &str = "371323-GS-010";

fn now(app: &TestApp) -> i64 {
    use dianxiaoer_web::Clock;
    app.clock.now_ms()
}

async fn item(s: &Session, code: &str) -> Value {
    let r = s.get(&format!("/api/v1/approval/items/{code}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The names of the materials the applicant hands in; `key_only` leaves out the non-key ones.
fn handed_in(item: &Value, key_only: bool) -> Vec<String> {
    item["item"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["fetchable"] == false && (m["key"] == true || !key_only))
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

async fn file(s: &Session, code: &str, enterprise: i64, materials: &[String]) -> reqwest::Response {
    s.post_json(
        "/api/v1/approval/cases",
        &json!({"item_code": code, "enterprise_id": enterprise, "materials": materials}),
    )
    .await
}

async fn file_ok(s: &Session, code: &str, enterprise: i64, materials: &[String]) -> Value {
    let r = file(s, code, enterprise, materials).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn act(s: &Session, id: i64, action: &str, comment: &str) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": action, "comment": comment})).await
}

async fn act_ok(s: &Session, id: i64, action: &str, comment: &str) -> Value {
    let r = act(s, id, action, comment).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{} {action}: {body}", s.username);
    body
}

async fn problem(r: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    v["detail"].as_str().unwrap().to_string()
}

async fn audits(app: &TestApp, action: &str, object_id: Option<String>) -> i64 {
    let f = AuditFilter { action: Some(action.into()), object_id, ..Default::default() };
    app.store.list_audit(&f, 1, 1).await.unwrap().total
}

async fn case_count(app: &TestApp) -> i64 {
    let staff = app.login("staff").await;
    let v: Value = staff.get("/api/v1/approval/cases?box=all").await.json().await.unwrap();
    v["total"].as_i64().unwrap()
}

async fn public_guides(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str| anon.get(app.url(path)).send();

    let r = get("/guide").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("data-item=\"").count(), 54, "all 54 built-in items are listed");
    for category in ["工商类", "立项准入类", "环评类", "规划类", "工程类"] {
        assert!(html.contains(category), "{category}");
    }
    assert!(html.contains("企业设立登记") && html.contains("/guide/371323-GS-001") && html.contains("登录办理"));

    let html = get("/guide?category=environment").await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-item=\"").count(), 6);
    assert!(html.contains("371323-HP-001") && !html.contains("371323-GS-001"));
    let html = get("/guide?q=%E9%A3%9F%E5%93%81").await.unwrap().text().await.unwrap(); // 食品
    assert_eq!(html.matches("data-item=\"").count(), 2);
    assert_eq!(get("/guide?category=tax").await.unwrap().status(), StatusCode::BAD_REQUEST);

    let r = get(&format!("/guide/{SETUP}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for text in [
        "企业设立登记",
        "公司章程或合伙协议",
        "部门共享获取，无需提交",
        "data-testid=\"promised-limit\">1个工作日<",
        "data-testid=\"statutory-limit\">3个工作日<",
        "data-testid=\"fee\">不收费<",
        "0 次（一次不用跑）",
        "《中华人民共和国公司法》",
        "第1版",
        "原件",
        "关键",
    ] {
        assert!(html.contains(text), "{text}");
    }
    assert!(html.contains("data-testid=\"rongque\">适用"));
    let html = get(&format!("/guide/{BOILER}")).await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"rongque\">不适用"));
    assert_eq!(get("/guide/371323-GS-999").await.unwrap().status(), StatusCode::NOT_FOUND);
    // The staff pages and the API are not public.
    assert_eq!(get("/approval/items").await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(get("/api/v1/approval/cases").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}
dual!(public_guides_without_login, super::public_guides);

/// The edit form's fields for an item as the API gives it, with `change` applied.
fn form_of(item: &Value, change: &[(&str, &str)]) -> Vec<(String, String)> {
    let i = &item["item"];
    let lines = |k: &str| i[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>().join("\n");
    let mut f: Vec<(String, String)> = vec![
        ("base_version".into(), i["version"].to_string()),
        ("name".into(), i["name"].as_str().unwrap().into()),
        ("department".into(), i["department"].as_str().unwrap().into()),
        ("unit".into(), i["unit"].as_str().unwrap_or("").into()),
        ("statutory_limit".into(), i["statutory_limit"].to_string()),
        ("promised_limit".into(), i["promised_limit"].to_string()),
        ("visits".into(), i["visits"].to_string()),
        ("fee".into(), "free".into()),
        ("conditions".into(), lines("conditions")),
        ("legal_basis".into(), lines("legal_basis")),
    ];
    for flag in ["deficiency_acceptance", "commitment_approval"] {
        if i[flag] == true {
            f.push((flag.into(), "1".into()));
        }
    }
    for (n, m) in i["materials"].as_array().unwrap().iter().enumerate() {
        f.push((format!("m{n}_name"), m["name"].as_str().unwrap().into()));
        f.push((format!("m{n}_form"), m["form"].as_str().unwrap().into()));
        f.push((format!("m{n}_copies"), m["copies"].to_string()));
        for flag in ["key", "fetchable"] {
            if m[flag] == true {
                f.push((format!("m{n}_{flag}"), "1".into()));
            }
        }
    }
    for (k, v) in change {
        match f.iter_mut().find(|(n, _)| n == k) {
            Some(field) => field.1 = v.to_string(),
            None => f.push((k.to_string(), v.to_string())),
        }
    }
    f
}

async fn post_pairs(s: &Session, path: &str, pairs: &[(String, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    s.post_form(path, &fields).await
}

async fn catalogue_versions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let ent = app.login("ent_a").await;
    let a = app.fixture.enterprise("a");
    let v1 = item(&staff, FOOD).await;
    assert_eq!((v1["item"]["version"].as_i64(), v1["item"]["promised_limit"].as_i64()), (Some(1), Some(5)));
    let before = file_ok(&ent, FOOD, a, &handed_in(&v1, false)).await;
    let old_case = before["case"]["id"].as_i64().unwrap();

    // Only staff edit the catalogue.
    assert_eq!(ent.get("/approval/items").await.status(), StatusCode::FORBIDDEN);
    let path = format!("/approval/items/{FOOD}/edit");
    assert_eq!(post_pairs(&ent, &path, &form_of(&v1, &[])).await.status(), StatusCode::FORBIDDEN);
    let html = staff.get("/approval/items").await.text().await.unwrap();
    assert!(html.contains(&format!("/approval/items/{FOOD}/edit")));
    assert_eq!(staff.get(&path).await.status(), StatusCode::OK);

    // A refused edit shows the reason next to the field and publishes nothing.
    let r = post_pairs(&staff, &path, &form_of(&v1, &[("promised_limit", "30")])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("承诺时限（30个工作日）不能超过法定时限（10个工作日）"));
    let r = post_pairs(&staff, &path, &form_of(&v1, &[("visits", "2"), ("statutory_limit", "十")])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("到现场次数应为0或1") && html.contains("工作日数应为0至365之间的整数"));
    assert_eq!(item(&staff, FOOD).await["item"]["version"], 1);

    // The edit: 4 working days promised, no visit; published as version 2.
    let current = item(&staff, FOOD).await;
    let base = current["item"]["version"].as_i64().unwrap();
    let r = post_pairs(&staff, &path, &form_of(&current, &[("promised_limit", "4"), ("visits", "0")])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/approval/items?ok=revised");
    let v2 = item(&staff, FOOD).await;
    assert_eq!(v2["item"]["version"].as_i64(), Some(base + 1));
    assert_eq!(v2["item"]["promised_limit"], 4);
    assert_eq!(v2["versions"].as_array().unwrap().len() as i64, base + 1);
    let html = reqwest::get(app.url(&format!("/guide/{FOOD}"))).await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("第{}版", base + 1)) && html.contains("data-testid=\"promised-limit\">4个工作日<"));
    let old = reqwest::get(app.url(&format!("/guide/{FOOD}?version=1"))).await.unwrap().text().await.unwrap();
    assert!(old.contains("历史版本") && old.contains("data-testid=\"promised-limit\">5个工作日<"));

    // An edit based on the old version is refused, on the page and by the API.
    let r = post_pairs(&staff, &path, &form_of(&current, &[("promised_limit", "3")])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("请刷新后重新编辑"));
    let r = staff.post_json(&format!("/api/v1/approval/items/{FOOD}"), &current["item"]).await;
    assert!(problem(r, StatusCode::CONFLICT).await.contains("请刷新后重新编辑"));
    // The API publishes the next version from the item as read.
    let mut edited = v2["item"].clone();
    edited["visits"] = json!(1);
    let r = staff.post_json(&format!("/api/v1/approval/items/{FOOD}"), &edited).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v3: Value = r.json().await.unwrap();
    assert_eq!((v3["version"].as_i64(), v3["visits"].as_i64()), (Some(base + 2), Some(1)));
    assert_eq!(audits(&app, "revise_approval_item", Some(FOOD.into())).await, 2);

    // The case filed before keeps version 1 and its 5 days; a new case takes the current version.
    let old = staff.get(&format!("/api/v1/approval/cases/{old_case}")).await.json::<Value>().await.unwrap();
    assert_eq!((old["case"]["item_version"].as_i64(), old["case"]["limit_days"].as_i64()), (Some(1), Some(5)));
    let new = file_ok(&ent, FOOD, a, &handed_in(&v2, false)).await;
    assert_eq!((new["case"]["item_version"].as_i64(), new["case"]["limit_days"].as_i64()), (Some(base + 2), Some(4)));
    act_ok(&ent, old_case, "submit", "").await;
    let accepted = act_ok(&staff, old_case, "accept", "").await;
    let cal = app.store.calendar().await.unwrap();
    let five = cal.deadline(now(&app), WorkingDays::new(5).unwrap()).to_string();
    assert_eq!(accepted["case"]["deadline"], five.as_str());
    app.cleanup().await;
}
dual!(staff_edit_publishes_versions_and_cases_keep_theirs, super::catalogue_versions);

async fn case_lifecycle(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (mut staff, mut leader, mut ent) =
        (app.login("staff").await, app.login("leader").await, app.login("ent_a").await);
    let a = app.fixture.enterprise("a");
    let food = item(&staff, FOOD).await;
    let all = handed_in(&food, false);

    // Monday 2026-03-02 09:00: the enterprise files (a draft) and submits.
    let filed = file_ok(&ent, FOOD, a, &all).await;
    let id = filed["case"]["id"].as_i64().unwrap();
    let case_no = filed["case"]["case_no"].as_str().unwrap().to_string();
    assert_eq!(case_no, "SP2026-000001");
    assert_eq!((filed["case"]["state"].as_str(), filed["case"]["agency"].as_bool()), (Some("draft"), Some(false)));
    assert_eq!(
        filed["actions"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect::<Vec<_>>(),
        ["submit", "withdraw"]
    );
    let inbox: Value = ent.get("/api/v1/approval/cases").await.json().await.unwrap();
    assert_eq!(inbox["total"], 1, "the draft waits for the applicant");
    act_ok(&ent, id, "submit", "").await;
    let inbox: Value = staff.get("/api/v1/approval/cases?box=inbox").await.json().await.unwrap();
    assert_eq!(inbox["items"][0]["case_no"], case_no.as_str());

    // A role the flow does not allow: 403 with the reason; a state that does not allow it: 422.
    let before_audits = audits(&app, "approval_action", Some(id.to_string())).await;
    let detail = problem(act(&ent, id, "accept", "").await, StatusCode::FORBIDDEN).await;
    assert_eq!(detail, "申请人不能“受理”，该动作仅限：部门人员");
    let detail = problem(act(&leader, id, "accept", "").await, StatusCode::FORBIDDEN).await;
    assert_eq!(detail, "领导不能“受理”，该动作仅限：部门人员");
    let detail = problem(act(&staff, id, "approve", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.starts_with("当前状态“预审”下不能“准予”"), "{detail}");
    let detail = problem(act(&staff, id, "not_accept", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(detail, "请填写“不予受理”的理由");
    // The page says the same.
    let r = ent.post_form(&format!("/approval/cases/{id}/actions"), &[("action", "accept")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("申请人不能“受理”"));
    let after: Value = staff.get(&format!("/api/v1/approval/cases/{id}")).await.json().await.unwrap();
    assert_eq!(after["case"]["state"], "pre_review");
    assert_eq!(after["events"].as_array().unwrap().len(), 2, "nothing written by the refusals");
    assert_eq!(audits(&app, "approval_action", Some(id.to_string())).await, before_audits);

    // Accepted at 17:30, after office close: the clock counts from Tuesday; 5 days → Tuesday 03-10.
    app.clock.advance_ms(8 * HOUR + 30 * 60_000);
    // Sessions time out while the clock jumps; sign in again.
    staff = app.login("staff").await;
    let accepted = act_ok(&staff, id, "accept", "").await;
    let cal = app.store.calendar().await.unwrap();
    let five = WorkingDays::new(5).unwrap();
    let expect = cal.deadline(now(&app), five).to_string();
    assert_eq!(expect, "2026-03-10");
    assert_eq!(accepted["case"]["deadline"], expect.as_str());
    assert_eq!(accepted["case"]["received_at"].as_i64(), Some(now(&app)));
    assert_eq!(accepted["events"][2]["sla_left_days"], 5);
    assert_eq!(accepted["days_left"], 5);
    // Before office close it would have counted from Monday.
    assert_eq!(cal.deadline(START_MS, five).to_string(), "2026-03-09");

    // Thursday 03-05 10:00: 补正 pauses the clock.
    app.clock.advance_ms(2 * 24 * HOUR + 16 * HOUR + 30 * 60_000);
    (staff, ent) = (app.login("staff").await, app.login("ent_a").await);
    let paused_at = now(&app);
    let paused = act_ok(&staff, id, "request_correction", "请补充生产设备布局图").await;
    assert_eq!(
        (paused["case"]["state"].as_str(), paused["case"]["paused_ms"].as_i64()),
        (Some("correction"), Some(paused_at))
    );
    assert_eq!(paused["events"][3]["sla_left_days"], 3);
    let html = ent.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("补正期间暂停计时") && html.contains("请补充生产设备布局图"));
    // Monday 03-09 10:00: the supplement resumes it; Friday and Monday do not count → Thursday 03-12.
    app.clock.advance_ms(4 * 24 * HOUR);
    ent = app.login("ent_a").await;
    let resumed = act_ok(&ent, id, "submit_correction", "已补充").await;
    let pauses = [Pause::new(paused_at, Some(now(&app))).unwrap()];
    let moved = cal.deadline_paused(accepted["case"]["received_at"].as_i64().unwrap(), five, &pauses).unwrap();
    assert_eq!(moved.to_string(), "2026-03-12");
    assert_eq!(resumed["case"]["deadline"], "2026-03-12");
    assert_eq!(resumed["case"]["paused_ms"], Value::Null);
    assert_eq!(resumed["days_left"], 3);

    // Decision and completion, across roles.
    app.clock.advance_ms(HOUR);
    (staff, leader) = (app.login("staff").await, app.login("leader").await);
    act_ok(&staff, id, "submit_for_decision", "").await;
    let inbox: Value = leader.get("/api/v1/approval/cases").await.json().await.unwrap();
    assert_eq!(inbox["items"][0]["id"].as_i64(), Some(id), "waiting for the leader's decision");
    act_ok(&leader, id, "approve", "同意").await;
    act_ok(&staff, id, "complete", "").await;
    let done = act_ok(&staff, id, "follow_up", "企业满意").await;
    assert_eq!(done["case"]["state"], "followed_up");
    assert_eq!(done["actions"], json!([]));
    let events = done["events"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "file",
            "submit",
            "accept",
            "request_correction",
            "submit_correction",
            "submit_for_decision",
            "approve",
            "complete",
            "follow_up"
        ]
    );
    assert_eq!(events[6]["actor_role"], "leader");
    assert_eq!(events[1]["actor_role"], "applicant");
    // Every transition audited, in the same transactions.
    assert_eq!(audits(&app, "approval_action", Some(id.to_string())).await, 8);
    assert_eq!(audits(&app, "create_approval_case", Some(id.to_string())).await, 1);
    assert!(app.store.verify_audit_chain().await.unwrap().first_bad_seq.is_none());

    // The case page shows the timeline; the list exports.
    let html = staff.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains(&case_no) && html.contains("已回访") && html.contains("补正 → 审查"));
    let r = staff.get("/approval/cases/export.xlsx?box=all").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    app.cleanup().await;
}
dual!(case_runs_with_working_day_deadlines, super::case_lifecycle);

async fn materials_and_rongque(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let ent = app.login("ent_a").await;
    let a = app.fixture.enterprise("a");

    // A key material missing: refused, nothing filed.
    let setup = item(&staff, SETUP).await;
    let keys = handed_in(&setup, true);
    let detail = problem(file(&ent, SETUP, a, &keys[1..]).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.contains("缺少关键材料") && detail.contains(&keys[0]), "{detail}");
    // The page says so too and keeps the form.
    let id_a = a.to_string();
    let mut form: Vec<(&str, &str)> = vec![("item", SETUP), ("enterprise_id", &id_a)];
    form.extend(keys[1..].iter().map(|k| ("materials", k.as_str())));
    let r = ent.post_form("/approval/cases", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("缺少关键材料"));
    assert_eq!(case_count(&app).await, 0);

    // Without 容缺 a non-key material cannot be missing either.
    let boiler = item(&staff, BOILER).await;
    let detail =
        problem(file(&ent, BOILER, a, &handed_in(&boiler, true)).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.contains("不适用容缺受理"), "{detail}");
    let full = file_ok(&ent, BOILER, a, &handed_in(&boiler, false)).await;
    let full_id = full["case"]["id"].as_i64().unwrap();
    act_ok(&ent, full_id, "submit", "").await;
    let detail = problem(act(&staff, full_id, "accept_deficient", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.contains("没有动作“accept_deficient”"), "{detail}");

    // 容缺受理 where the item allows it: accepted with the non-key material missing, supplied later.
    let case = file_ok(&ent, SETUP, a, &keys).await;
    let id = case["case"]["id"].as_i64().unwrap();
    assert_eq!(case["case"]["missing"], json!(["授权委托书及受托人身份证件"]));
    assert!(case["acceptance"].as_str().unwrap().starts_with("容缺"));
    act_ok(&ent, id, "submit", "").await;
    let detail = problem(act(&staff, id, "accept", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.contains("材料不齐") && detail.contains("容缺受理"), "{detail}");
    let d = act_ok(&staff, id, "accept_deficient", "").await;
    assert_eq!(d["case"]["state"], "deficient");
    assert!(d["case"]["deadline"].is_string(), "the clock runs from 容缺受理");
    let detail = problem(act(&ent, id, "supply", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.contains("仍缺少材料"), "{detail}");
    let body = json!({"action": "supply", "materials": ["授权委托书及受托人身份证件"]});
    let r = ent.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let supplied: Value = r.json().await.unwrap();
    assert_eq!(
        (supplied["case"]["state"].as_str(), supplied["case"]["missing"].clone()),
        (Some("reviewing"), json!([]))
    );
    assert_eq!(supplied["acceptance"], "材料齐全");
    app.cleanup().await;
}
dual!(materials_are_checked_and_rongque_only_where_allowed, super::materials_and_rongque);

/// The ids of every case `s` sees, sorted.
async fn seen(s: &Session) -> Vec<i64> {
    let v: Value = s.get("/api/v1/approval/cases?box=all&per_page=50").await.json().await.unwrap();
    let mut ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids
}

async fn scope_and_agency(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let f = &app.fixture;
    let (a, b) = (f.enterprise("a"), f.enterprise("b"));
    let staff = app.login("staff").await;
    let ent_a = app.login("ent_a").await;
    let ent_b = app.login("ent_b").await;
    let food = item(&staff, FOOD).await;
    let all = handed_in(&food, false);
    let case_a = file_ok(&ent_a, FOOD, a, &all).await["case"]["id"].as_i64().unwrap();
    // An enterprise cannot file for another one.
    assert_eq!(file(&ent_a, FOOD, b, &all).await.status(), StatusCode::NOT_FOUND);
    // Staff file for B on its behalf (帮代办) through the page, and submit for it.
    let html = staff.get(&format!("/approval/cases/new?item={FOOD}&enterprise={b}")).await.text().await.unwrap();
    assert!(html.contains("帮代办") && html.contains("沂水乙电子科技有限公司"));
    let id_b = b.to_string();
    let mut form: Vec<(&str, &str)> = vec![("item", FOOD), ("enterprise_id", &id_b)];
    form.extend(all.iter().map(|m| ("materials", m.as_str())));
    let r = staff.post_form("/approval/cases", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case_b: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/approval/cases/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d: Value = staff.get(&format!("/api/v1/approval/cases/{case_b}")).await.json().await.unwrap();
    assert_eq!(
        (d["case"]["agency"].as_bool(), d["case"]["applicant_id"].as_i64()),
        (Some(true), Some(f.user("staff")))
    );
    let r = staff.post_form(&format!("/approval/cases/{case_b}/actions"), &[("action", "submit")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d: Value = staff.get(&format!("/api/v1/approval/cases/{case_b}")).await.json().await.unwrap();
    assert_eq!(
        (d["case"]["state"].as_str(), d["events"][1]["actor_role"].as_str()),
        (Some("pre_review"), Some("applicant"))
    );

    // Who sees what: each enterprise its own; grid officers their grid's; staff and leadership all.
    let both = {
        let mut v = vec![case_a, case_b];
        v.sort();
        v
    };
    assert_eq!(seen(&ent_a).await, [case_a]);
    assert_eq!(seen(&ent_b).await, [case_b]);
    assert_eq!(seen(&app.login("grid1").await).await, [case_a]);
    assert_eq!(seen(&app.login("grid2").await).await, [case_b]);
    assert_eq!(seen(&staff).await, both);
    assert_eq!(seen(&app.login("leader").await).await, both);
    for admin in ["auditor"] {
        assert_eq!(app.login(admin).await.get("/approval/cases").await.status(), StatusCode::FORBIDDEN);
    }
    // Another enterprise's case by id is 404 on every path, and nothing changes.
    for path in [format!("/approval/cases/{case_a}"), format!("/api/v1/approval/cases/{case_a}")] {
        assert_eq!(ent_b.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(act(&ent_b, case_a, "submit", "").await.status(), StatusCode::NOT_FOUND);
    let r = ent_b.post_form(&format!("/approval/cases/{case_a}/actions"), &[("action", "withdraw")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let still = app.store.case(&Scope::Zone, case_a).await.unwrap();
    assert_eq!(still.state, "draft");
    // The enterprise's file lists its cases; the staff's offers to file for it.
    let html = staff.get(&format!("/enterprises/{b}")).await.text().await.unwrap();
    assert!(html.contains(&format!("/approval/cases/{case_b}\"")) && html.contains("代为申请（帮代办）"));
    let html = ent_a.get(&format!("/enterprises/{a}")).await.text().await.unwrap();
    assert!(html.contains(&format!("/approval/cases/{case_a}\"")) && html.contains("在线申请"));
    let home = staff.get("/").await.text().await.unwrap();
    assert!(home.contains("待办审批办件"));
    // The list page shows an enterprise only its own cases.
    let html = ent_b.get("/approval/cases?box=all").await.text().await.unwrap();
    assert!(
        html.contains(&format!("data-case-id=\"{case_b}\"")) && !html.contains(&format!("data-case-id=\"{case_a}\""))
    );
    app.cleanup().await;
}
dual!(cases_are_scoped_and_agency_filings_work, super::scope_and_agency);
