//! Taking and assigning cases (认领、指派、改派) over HTTP on both backends: a submitted case waits in
//! every staff member's inbox until one takes it; then it is in the taker's inbox alone and another
//! staff member can neither act on it nor take it; handing over, leadership's release, refusals for
//! people who cannot work the case, and the assignment lapsing when nobody of its role acts any more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 特种设备使用登记: no 容缺.
const BOILER: &str = "371323-GS-010";

async fn assign(s: &Session, id: i64, to: Value) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/assign"), &json!({ "to": to })).await
}

async fn detail(s: &Session, id: i64) -> Value {
    s.get(&format!("/api/v1/approval/cases/{id}")).await.json().await.unwrap()
}

async fn listed(s: &Session, list: &str, id: i64) -> bool {
    let v: Value = s.get(&format!("/api/v1/approval/cases?box={list}&per_page=200")).await.json().await.unwrap();
    v["items"].as_array().unwrap().iter().any(|c| c["id"] == id)
}

async fn detail_msg(r: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    let v: Value = r.json().await.unwrap();
    v["detail"].as_str().unwrap().to_string()
}

async fn assignment(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (staff, other, leader, ent) =
        (app.login("staff").await, app.login("victim").await, app.login("leader").await, app.login("ent_a").await);
    let a = app.fixture.enterprise("a");
    let it: Value = staff.get(&format!("/api/v1/approval/items/{BOILER}")).await.json().await.unwrap();
    let materials: Vec<String> = it["item"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["fetchable"] == false)
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    let r = ent
        .post_json("/api/v1/approval/cases", &json!({"item_code": BOILER, "enterprise_id": a, "materials": materials}))
        .await;
    let id = r.json::<Value>().await.unwrap()["case"]["id"].as_i64().unwrap();
    let r = ent.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": "submit"})).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Free: in both staff members' inboxes and pools.
    for s in [&staff, &other] {
        assert!(listed(s, "inbox", id).await && listed(s, "pool", id).await && !listed(s, "mine", id).await);
    }
    // Leadership does not act in 预审, so it cannot take the case; the enterprise cannot at all.
    let m = detail_msg(assign(&leader, id, json!("me")).await, StatusCode::FORBIDDEN).await;
    assert!(m.contains("不由您的角色办理"), "{m}");
    assert_eq!(assign(&ent, id, json!("me")).await.status(), StatusCode::FORBIDDEN);

    // Staff takes it: the taker's inbox alone; the colleague can neither act nor take.
    let taken: Value = assign(&staff, id, json!("me")).await.json().await.unwrap();
    assert!(taken["case"]["assignee_name"].as_str().is_some(), "{taken}");
    assert!(listed(&staff, "inbox", id).await && listed(&staff, "mine", id).await && !listed(&staff, "pool", id).await);
    assert!(!listed(&other, "inbox", id).await && !listed(&other, "pool", id).await && listed(&other, "all", id).await);
    let r = other.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": "accept"})).await;
    assert!(detail_msg(r, StatusCode::FORBIDDEN).await.contains("已由"));
    assert!(detail_msg(assign(&other, id, json!("me")).await, StatusCode::CONFLICT).await.contains("已由"));
    assert_eq!(assign(&staff, id, json!("me")).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Nobody outside the case's roles may be chosen.
    let ent_user = app.fixture.user("ent_a");
    let m = detail_msg(assign(&staff, id, json!(ent_user)).await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("所选人员不能承办"), "{m}");

    // Handing over to the colleague, then leadership releases it to the pool.
    let victim = app.fixture.user("victim");
    let r = assign(&staff, id, json!(victim)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(listed(&other, "mine", id).await && !listed(&staff, "inbox", id).await);
    assert_eq!(assign(&staff, id, Value::Null).await.status(), StatusCode::FORBIDDEN, "no longer the assignee");
    assert_eq!(assign(&leader, id, Value::Null).await.status(), StatusCode::OK);
    assert!(detail(&staff, id).await["case"]["assignee_id"].is_null());
    let events = detail(&staff, id).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action_name"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(["认领", "改派", "退回待认领"].iter().all(|n| events.iter().any(|e| e == n)), "{events:?}");

    // Taken through the page, accepted, then sent to the applicant for 补正: the assignment lapses.
    let r = staff.post_form(&format!("/approval/cases/{id}/assign"), &[("to", "me")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = staff.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"assignee\"") && html.contains("退回待认领"));
    for action in ["accept", "request_correction"] {
        let r = staff
            .post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": action, "comment": "请补正"}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
        if action == "accept" {
            assert_eq!(detail(&staff, id).await["case"]["assignee_id"].as_i64(), Some(app.fixture.user("staff")));
        }
    }
    // Staff still act in 补正 (they may terminate), so the assignment stays; when the applicant
    // withdraws, nobody acts any more and it lapses.
    assert_eq!(detail(&staff, id).await["case"]["assignee_id"].as_i64(), Some(app.fixture.user("staff")));
    let r = ent.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": "withdraw"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(detail(&staff, id).await["case"]["assignee_id"].is_null(), "closed: nobody acts");
    assert_eq!(assign(&staff, id, json!("me")).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.cleanup().await;
}
dual!(cases_are_taken_assigned_and_released, super::assignment);
