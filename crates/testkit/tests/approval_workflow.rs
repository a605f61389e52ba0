//! Configuring an item's workflow over HTTP on both backends: a 联合会审 step added by API publishes
//! the item's next version; a case filed afterwards runs through the added step with the roles
//! configured, while a case filed before keeps its flow; refused configurations (a default action
//! removed, a reserved code, an overall SLA above the statutory limit, stale version) change nothing;
//! the page shows and saves the same; a later guide edit keeps the configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 特种设备使用登记: no 容缺, no 告知承诺.
const BOILER: &str = "371323-GS-010";

async fn item(s: &Session, code: &str) -> Value {
    let r = s.get(&format!("/api/v1/approval/items/{code}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn put(s: &Session, path: &str, body: &Value) -> reqwest::Response {
    s.client.put(s.url(path)).header("x-csrf-token", &s.csrf).json(body).send().await.unwrap()
}

async fn act_ok(s: &Session, id: i64, action: &str) -> Value {
    let r = s.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": action})).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{} {action}: {body}", s.username);
    body
}

async fn file(s: &Session, enterprise: i64, materials: &[String]) -> i64 {
    let r = s
        .post_json(
            "/api/v1/approval/cases",
            &json!({"item_code": BOILER, "enterprise_id": enterprise, "materials": materials}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["case"]["id"].as_i64().unwrap()
}

fn actions_of(case: &Value) -> Vec<String> {
    case["actions"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap().to_string()).collect()
}

/// The current flow with a 联合会审 step between 审查 and 决定 that only leadership closes.
fn with_joint_review(mut flow: Value) -> Value {
    flow["states"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "joint_review", "name": "联合会审", "sla": 1, "clock": "running", "terminal": false}));
    let actions = flow["actions"].as_array_mut().unwrap();
    actions.push(json!({"code": "to_joint_review", "name": "提交会审", "from": "reviewing", "to": "joint_review", "roles": ["department_staff"]}));
    actions.push(json!({"code": "joint_review_done", "name": "会审完成", "from": "joint_review", "to": "deciding", "roles": ["leader"]}));
    flow
}

async fn configure(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (staff, leader, ent) = (app.login("staff").await, app.login("leader").await, app.login("ent_a").await);
    let a = app.fixture.enterprise("a");
    let before = item(&staff, BOILER).await;
    let v1 = before["item"]["version"].as_i64().unwrap();
    let materials: Vec<String> = before["item"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["fetchable"] == false)
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    let old_case = file(&ent, a, &materials).await;

    // Refusals: each names the problem, nothing is published.
    let mut removed = before["workflow"].clone();
    removed["actions"].as_array_mut().unwrap().retain(|a| a["code"] != "request_correction");
    let mut reserved = with_joint_review(before["workflow"].clone());
    reserved["actions"].as_array_mut().unwrap().last_mut().unwrap()["code"] = json!("approve");
    let mut too_long = before["workflow"].clone();
    too_long["overall_sla"] = json!(before["item"]["statutory_limit"].as_i64().unwrap() + 1);
    for (flow, base, status, message) in [
        (removed, v1, StatusCode::BAD_REQUEST, "不能删除或改接默认动作“要求补正”"),
        (reserved, v1, StatusCode::BAD_REQUEST, "平台保留的编码“approve”"),
        (too_long, v1, StatusCode::BAD_REQUEST, "不能超过法定办结时限"),
        (with_joint_review(before["workflow"].clone()), v1 + 7, StatusCode::CONFLICT, "请刷新后重新编辑"),
    ] {
        let r = put(
            &staff,
            &format!("/api/v1/approval/items/{BOILER}/workflow"),
            &json!({"base_version": base, "workflow": flow}),
        )
        .await;
        assert_eq!(r.status(), status);
        let body: Value = r.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains(message), "{body}");
    }
    assert_eq!(item(&staff, BOILER).await["item"]["version"].as_i64(), Some(v1), "nothing published");
    let r = put(
        &ent,
        &format!("/api/v1/approval/items/{BOILER}/workflow"),
        &json!({"base_version": v1, "workflow": before["workflow"]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Published: the next version carries the step.
    let r = put(
        &staff,
        &format!("/api/v1/approval/items/{BOILER}/workflow"),
        &json!({"base_version": v1, "workflow": with_joint_review(before["workflow"].clone())}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let published: Value = r.json().await.unwrap();
    assert_eq!(published["item"]["version"].as_i64(), Some(v1 + 1));
    assert_eq!(published["workflow"]["version"].as_i64(), Some(v1 + 1));
    assert!(published["workflow"]["states"].as_array().unwrap().iter().any(|s| s["code"] == "joint_review"));

    // A new case runs through 联合会审; staff may send it there, only leadership closes it.
    let id = file(&ent, a, &materials).await;
    act_ok(&ent, id, "submit").await;
    let accepted = act_ok(&staff, id, "accept").await;
    assert!(actions_of(&accepted).contains(&"to_joint_review".to_string()), "{accepted}");
    let joint = act_ok(&staff, id, "to_joint_review").await;
    assert_eq!(joint["case"]["state"], "joint_review");
    let r =
        staff.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": "joint_review_done"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let deciding = act_ok(&leader, id, "joint_review_done").await;
    assert_eq!(deciding["case"]["state"], "deciding");

    // The case filed before keeps the flow of its version: no 联合会审 there.
    act_ok(&ent, old_case, "submit").await;
    let accepted = act_ok(&staff, old_case, "accept").await;
    assert!(!actions_of(&accepted).contains(&"to_joint_review".to_string()), "{accepted}");

    // The page shows the configuration; a guide edit keeps it.
    let html = staff.get(&format!("/approval/items/{BOILER}/workflow")).await.text().await.unwrap();
    assert!(html.contains("联合会审") && html.contains("已配置"), "the page shows the added step");
    let mut guide = published["item"].clone();
    guide["name"] = json!("特种设备使用登记（改）");
    let r = staff.post_json(&format!("/api/v1/approval/items/{BOILER}"), &guide).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let after = item(&staff, BOILER).await;
    assert_eq!(after["item"]["version"].as_i64(), Some(v1 + 2));
    assert!(after["workflow"]["states"].as_array().unwrap().iter().any(|s| s["code"] == "joint_review"));

    // The page form: renaming a state publishes again; a bad SLA comes back with the message.
    let form = page_pairs(&html_of(&staff, BOILER).await);
    let mut bad = form.clone();
    for (k, v) in bad.iter_mut() {
        if k == "overall_sla" {
            *v = "九十".into();
        }
    }
    let r = post_pairs(&staff, &format!("/approval/items/{BOILER}/workflow"), &bad).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut renamed = form;
    for (k, v) in renamed.iter_mut() {
        if v == "联合会审" && k.ends_with("_name") {
            *v = "多部门联合会审".into();
        }
    }
    let r = post_pairs(&staff, &format!("/approval/items/{BOILER}/workflow"), &renamed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = item(&staff, BOILER).await;
    assert_eq!(after["item"]["version"].as_i64(), Some(v1 + 3));
    let joint = after["workflow"]["states"].as_array().unwrap().iter().find(|s| s["code"] == "joint_review").cloned();
    assert_eq!(joint.unwrap()["name"], "多部门联合会审");
    app.cleanup().await;
}
dual!(configured_workflows_publish_versions_and_run, super::configure);

async fn html_of(s: &Session, code: &str) -> String {
    s.get(&format!("/approval/items/{code}/workflow")).await.text().await.unwrap()
}

/// The form's fields as the browser would send them: every input's value, checked boxes only,
/// each select's selected option.
fn page_pairs(html: &str) -> Vec<(String, String)> {
    let form = &html[html.find("data-testid=\"workflow-form\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[start..start + tag[start..].find('"')?].to_string())
    };
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..end];
        if tag.starts_with("<input") {
            if let Some(name) = attr(tag, "name") {
                let checkbox = tag.contains("type=\"checkbox\"");
                if !checkbox || tag.contains(" checked") {
                    out.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
        } else if tag.starts_with("<select") {
            let name = attr(tag, "name").unwrap();
            let body = &rest[end..rest.find("</select>").unwrap()];
            let selected = body.split("<option").find(|o| o.contains(" selected")).unwrap_or("");
            out.push((name, attr(&format!(" {selected}"), "value").unwrap_or_default()));
        }
        rest = &rest[end..];
    }
    out.into_iter().filter(|(k, _)| k != "_csrf").collect()
}

async fn post_pairs(s: &Session, path: &str, pairs: &[(String, String)]) -> reqwest::Response {
    let mut all: Vec<(String, String)> = pairs.to_vec();
    all.push(("_csrf".into(), s.csrf.clone()));
    s.client.post(s.url(path)).form(&all).send().await.unwrap()
}
