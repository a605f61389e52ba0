//! What follows an approval decision, over HTTP on both backends: 告知承诺 (the applicant's commitment,
//! the decision on it scheduling the check in working days, the check's result — a failed one revokes
//! the decision and goes on the enterprise's file — and revocation refused without it), the follow-up
//! a completed case schedules, the 好差评 rating with the call-back and rectification of a bad one and
//! rating again only after it, the escalation of what is overdue, the lists, the satisfaction figures,
//! the configurable periods, and historical loading.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::commitment::{CheckMethod, CheckOutcome, CheckResult};
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_core::approval::rating::Level;
use dianxiaoer_core::approval::{Actor as FlowActor, Catalogue, Date, WorkingDays};
use dianxiaoer_store::{
    Actor, AuditFilter, HistoricalAftercare, HistoricalBy, HistoricalCase, HistoricalCommitment, HistoricalEvent,
    HistoricalRating, HistoricalStep, StatsFilter,
};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 公共场所卫生许可: 告知承诺 allowed, promised 3 working days.
const HYGIENE: &str = "371323-GS-007";
/// 食品生产许可: no 告知承诺.
const FOOD: &str = "371323-GS-005";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn now(app: &TestApp) -> i64 {
    use dianxiaoer_web::Clock;
    app.clock.now_ms()
}

fn all_materials(code: &str) -> Vec<String> {
    let item = Catalogue::builtin().get(code).unwrap();
    item.materials.iter().filter(|m| !m.fetchable).map(|m| m.name.clone()).collect()
}

async fn ok(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    body
}

async fn problem(r: reqwest::Response, status: StatusCode) -> String {
    let got = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{v}");
    v["detail"].as_str().unwrap().to_string()
}

async fn act(s: &Session, id: i64, action: &str, comment: &str) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": action, "comment": comment})).await
}

async fn commit(s: &Session, id: i64, text: &str) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/commitment"), &json!({"text": text})).await
}

async fn check(s: &Session, id: i64, body: Value) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/check"), &body).await
}

async fn rate(s: &Session, id: i64, level: &str, comment: &str) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/rating"), &json!({"level": level, "comment": comment})).await
}

async fn step(s: &Session, rating: i64, kind: &str, note: &str) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/ratings/{rating}/{kind}"), &json!({"note": note})).await
}

/// Files `code` for enterprise A as its own user, submits it and has staff accept it.
async fn accepted(app: &TestApp, code: &str) -> i64 {
    let ent = app.login("ent_a").await;
    let body =
        json!({"item_code": code, "enterprise_id": app.fixture.enterprise("a"), "materials": all_materials(code)});
    let r = ent.post_json("/api/v1/approval/cases", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["case"]["id"].as_i64().unwrap();
    ok(act(&ent, id, a::SUBMIT, "").await, "submit").await;
    ok(act(&app.login("staff").await, id, a::ACCEPT, "").await, "accept").await;
    id
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    app.store.list_audit(&f, 1, 1).await.unwrap().total
}

async fn commitment_and_check(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cal = app.store.calendar().await.unwrap();
    let id = accepted(&app, HYGIENE).await;
    let (staff, leader, ent) = (app.login("staff").await, app.login("leader").await, app.login("ent_a").await);

    // No decision on the commitment before the applicant has written it.
    let detail = problem(act(&leader, id, a::APPROVE_ON_COMMITMENT, "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(detail, "申请人尚未提交告知承诺书，不能按告知承诺准予");
    // Only the applicant writes it, and not empty.
    let detail = problem(commit(&staff, id, "本单位承诺").await, StatusCode::FORBIDDEN).await;
    assert!(detail.contains("由申请人"), "{detail}");
    assert_eq!(problem(commit(&ent, id, "  ").await, StatusCode::BAD_REQUEST).await, "请填写承诺内容");
    // The case page shows the written notice and the form to the applicant.
    let html = ent.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"commitment-notice\"") && html.contains("撤销审批决定"));
    let r = ent.post_form(&format!("/approval/cases/{id}/commitment"), &[("text", "初稿")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let text = "本单位承诺经营场所符合卫生要求，所报材料真实有效，如有不实愿承担撤销决定等责任";
    let k = ok(commit(&ent, id, text).await, "commit").await;
    assert_eq!((k["text"].as_str(), k["committed_name"].as_str()), (Some(text), Some("ent_a")));
    assert_eq!(k["decided_at"], Value::Null);
    // Not for an item without 告知承诺.
    let food = accepted(&app, FOOD).await;
    let r = ent.post_json(&format!("/api/v1/approval/cases/{food}/commitment"), &json!({"text": text})).await;
    assert!(problem(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("不适用告知承诺制"));

    // The decision on it schedules the check: 30 working days (the default) from the decision.
    app.clock.advance_ms(2 * HOUR);
    // Sessions time out while the clock jumps; sign in again.
    let (leader, ent, staff) = (app.login("leader").await, app.login("ent_a").await, app.login("staff").await);
    let decided = ok(act(&leader, id, a::APPROVE_ON_COMMITMENT, "依承诺准予").await, "decide").await;
    assert_eq!(decided["case"]["state"], "commitment_approved");
    let due = cal.deadline(now(&app), WorkingDays::new(30).unwrap()).to_string();
    assert_eq!(decided["commitment"]["check_due"], due.as_str());
    assert_eq!(decided["commitment"]["check_days"], 30);
    assert_eq!(decided["commitment"]["decided_at"].as_i64(), Some(now(&app)));
    let detail = problem(commit(&ent, id, "改").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(detail, "已作出决定，不能再提交或修改告知承诺书");

    // The check is recorded in 承诺核查 only, by staff only, once; revocation only after it failed.
    let passed = json!({"result": "passed", "method": "on_site"});
    let detail = problem(check(&staff, id, passed.clone()).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.starts_with("请先办结"), "{detail}");
    let completed = ok(act(&staff, id, a::COMPLETE, "").await, "complete").await;
    assert_eq!(completed["case"]["state"], "post_check");
    let codes: Vec<&str> =
        completed["actions"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap()).collect();
    assert!(codes.is_empty(), "the check's form, not buttons: {codes:?}");
    assert_eq!(completed["may_check"], true);
    let detail = problem(act(&leader, id, a::REVOKE, "承诺不实").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(detail.starts_with("撤销须以核查不通过为前提"), "{detail}");
    assert!(
        problem(act(&staff, id, a::VERIFY, "").await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("核查通过须")
    );
    assert!(problem(check(&leader, id, passed.clone()).await, StatusCode::FORBIDDEN).await.contains("仅限：部门人员"));
    let bare = json!({"result": "failed", "method": "paper", "findings": ""});
    assert!(problem(check(&staff, id, bare).await, StatusCode::BAD_REQUEST).await.contains("写明发现的问题"));
    let pending: Value = staff.get("/api/v1/approval/checks").await.json().await.unwrap();
    assert_eq!((pending["total"].as_i64(), pending["items"][0]["case_id"].as_i64()), (Some(1), Some(id)));
    assert_eq!(pending["items"][0]["overdue"], false);
    let html = staff.get("/approval/checks").await.text().await.unwrap();
    assert!(html.contains(&due) && html.contains("data-testid=\"aftercare-policy\""));

    // Past the due date: the escalation job reports it once; the overdue list shows it.
    assert!(app.store.escalate_overdue(now(&app)).await.unwrap().post_check.is_empty());
    app.clock.advance_ms(50 * DAY);
    let report = app.store.escalate_overdue(now(&app)).await.unwrap();
    let no = completed["case"]["case_no"].as_str().unwrap();
    assert_eq!(report.post_check, [no]);
    assert!(app.store.escalate_overdue(now(&app)).await.unwrap().post_check.is_empty());
    let (staff, leader) = (app.login("staff").await, app.login("leader").await);
    let html = leader.get("/approval/overdue").await.text().await.unwrap();
    assert!(html.contains("data-kind=\"post_check\"") && html.contains("告知承诺核查") && html.contains("已报领导"));
    let pending: Value = staff.get("/api/v1/approval/checks").await.json().await.unwrap();
    assert_eq!(
        (pending["items"][0]["overdue"].as_bool(), pending["items"][0]["escalated"].as_bool()),
        (Some(true), Some(true))
    );
    let r = staff.get("/approval/overdue.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);

    // A failed check (through the page) revokes the decision, on the enterprise's file.
    let findings = "现场核查发现经营场所面积不足";
    let form = [("result", "failed"), ("method", "on_site"), ("findings", findings)];
    let r = staff.post_form(&format!("/approval/cases/{id}/check"), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d: Value = staff.get(&format!("/api/v1/approval/cases/{id}")).await.json().await.unwrap();
    assert_eq!((d["case"]["state"].as_str(), d["case"]["state_name"].as_str()), (Some("revoked"), Some("已撤销")));
    assert_eq!(
        (d["commitment"]["result"].as_str(), d["commitment"]["method"].as_str()),
        (Some("failed"), Some("on_site"))
    );
    let last = d["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "revoke");
    assert!(last["comment"].as_str().unwrap().contains(findings));
    let history = app.store.enterprise_history(&Scope::Zone, app.fixture.enterprise("a"), 50).await.unwrap();
    let entry = history.iter().find(|h| h.action == "approval_revoke").expect("on the enterprise's file");
    assert!(entry.detail.contains(findings) && entry.detail.contains(no));
    let again = json!({"result": "passed", "method": "on_site"});
    assert!(problem(check(&staff, id, again).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("不能重复登记"));
    let done: Value = staff.get("/api/v1/approval/checks?status=done").await.json().await.unwrap();
    assert_eq!(done["items"][0]["result_name"], "核查不通过（承诺不实）");
    assert_eq!(staff.get("/api/v1/approval/checks?status=late").await.status(), StatusCode::BAD_REQUEST);
    let html = app.login("ent_a").await.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("已撤销") && html.contains(findings));

    // A passed check completes the case, which then waits for its follow-up.
    let id2 = accepted(&app, HYGIENE).await;
    let ent = app.login("ent_a").await;
    ok(ent.post_json(&format!("/api/v1/approval/cases/{id2}/commitment"), &json!({"text": text})).await, "c").await;
    let staff = app.login("staff").await;
    ok(act(&staff, id2, a::APPROVE_ON_COMMITMENT, "").await, "decide").await;
    ok(act(&staff, id2, a::COMPLETE, "").await, "complete").await;
    let body = json!({"result": "passed", "method": "online"});
    let d = ok(staff.post_json(&format!("/api/v1/approval/cases/{id2}/check"), &body).await, "check").await;
    assert_eq!(d["case"]["state"], "completed");
    let follow: Value = staff.get("/api/v1/approval/follow-ups").await.json().await.unwrap();
    let due = cal.deadline(now(&app), WorkingDays::new(5).unwrap()).to_string();
    assert_eq!(
        (follow["items"][0]["case_id"].as_i64(), follow["items"][0]["due"].as_str()),
        (Some(id2), Some(due.as_str()))
    );
    assert_eq!(audits(&app, "approval_check").await, 2);
    assert_eq!(audits(&app, "approval_commitment").await, 3);
    assert!(app.store.verify_audit_chain().await.unwrap().first_bad_seq.is_none());
    app.cleanup().await;
}
dual!(commitment_is_checked_and_a_failed_check_revokes, super::commitment_and_check);

/// A FOOD case completed through the actions; its id.
async fn completed_case(app: &TestApp) -> i64 {
    let id = accepted(app, FOOD).await;
    let staff = app.login("staff").await;
    for action in [a::SUBMIT_FOR_DECISION, a::APPROVE, a::COMPLETE] {
        ok(act(&staff, id, action, "").await, action).await;
    }
    id
}

async fn rating(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cal = app.store.calendar().await.unwrap();
    let open = accepted(&app, FOOD).await;
    let ent = app.login("ent_a").await;
    assert_eq!(
        problem(rate(&ent, open, "satisfied", "").await, StatusCode::UNPROCESSABLE_ENTITY).await,
        "办件办结后方可评价"
    );
    let id = completed_case(&app).await;
    let staff = app.login("staff").await;
    assert!(problem(rate(&staff, id, "satisfied", "").await, StatusCode::FORBIDDEN).await.contains("企业本身"));
    assert!(problem(rate(&ent, id, "好", "").await, StatusCode::BAD_REQUEST).await.contains("请选择评价"));
    let follow: Value = staff.get("/api/v1/approval/follow-ups").await.json().await.unwrap();
    assert_eq!(follow["items"][0]["rated"], false);

    // A bad rating: call-back within 1 and rectification within 15 working days.
    let rated_at = now(&app);
    let bad = ok(rate(&ent, id, "very_dissatisfied", "等待时间太长").await, "rate").await;
    assert_eq!(
        (bad["level_name"].as_str(), bad["bad"].as_bool(), bad["score"].as_i64()),
        (Some("非常不满意"), Some(true), Some(1))
    );
    let one = cal.deadline(rated_at, WorkingDays::new(1).unwrap()).to_string();
    let fifteen = cal.deadline(rated_at, WorkingDays::new(15).unwrap()).to_string();
    assert_eq!(
        (bad["callback_due"].as_str(), bad["rectify_due"].as_str()),
        (Some(one.as_str()), Some(fifteen.as_str()))
    );
    let rid = bad["id"].as_i64().unwrap();
    // Rating twice without rectification is refused; so is rectifying before the call-back, and
    // the enterprise handling its own rating.
    let detail = problem(rate(&ent, id, "satisfied", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(detail, "已评价（非常不满意），差评整改完成后方可再次评价");
    let detail = problem(step(&staff, rid, "rectification", "改").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(detail, "请先登记回访核实，再登记整改");
    assert!(problem(step(&ent, rid, "callback", "x").await, StatusCode::FORBIDDEN).await.contains("不能登记回访核实"));
    assert_eq!(
        problem(step(&staff, rid, "callback", "").await, StatusCode::UNPROCESSABLE_ENTITY).await,
        "请填写回访核实情况"
    );
    let tasks: Value = staff.get("/api/v1/approval/ratings").await.json().await.unwrap();
    assert_eq!((tasks["total"].as_i64(), tasks["items"][0]["open_step"].as_str()), (Some(1), Some("callback")));

    // Overdue call-back: escalated once, on the overdue list.
    app.clock.advance_ms(3 * DAY);
    let report = app.store.escalate_overdue(now(&app)).await.unwrap();
    assert_eq!(report.callback.len(), 1);
    assert!(report.rectify.is_empty());
    assert!(app.store.escalate_overdue(now(&app)).await.unwrap().callback.is_empty());
    let (staff, ent) = (app.login("staff").await, app.login("ent_a").await);
    let html = staff.get("/approval/overdue").await.text().await.unwrap();
    assert!(html.contains("data-kind=\"callback\"") && html.contains("差评回访核实"));
    let html = staff.get("/approval/service").await.text().await.unwrap();
    assert!(html.contains(&format!("data-rating-id=\"{rid}\"")) && html.contains("待回访核实"));

    // Staff call back through the page, rectify through the API.
    let html = staff.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains(&format!("/approval/ratings/{rid}/callback")));
    let idt = id.to_string();
    let form = [("note", "已电话回访，核实等待原因"), ("case_id", idt.as_str())];
    let r = staff.post_form(&format!("/approval/ratings/{rid}/callback"), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let fixed = ok(step(&staff, rid, "rectification", "增设帮办专员").await, "rectify").await;
    assert_eq!(
        (fixed["callback_note"].as_str(), fixed["rectify_note"].as_str()),
        (Some("已电话回访，核实等待原因"), Some("增设帮办专员"))
    );
    assert!(
        problem(step(&staff, rid, "rectification", "again").await, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .contains("不能重复登记")
    );

    // The follow-up, then rating again (kept, the latest counts), and no third time.
    ok(act(&staff, id, a::FOLLOW_UP, "已回访").await, "follow up").await;
    let r = ent
        .post_form(&format!("/approval/cases/{id}/rating"), &[("level", "satisfied"), ("comment", "整改后很快")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ratings = app.store.case_ratings(&Scope::Zone, id).await.unwrap();
    assert_eq!(ratings.len(), 2);
    assert_eq!((ratings[0].level.as_str(), ratings[0].latest, ratings[1].latest), ("satisfied", true, false));
    let detail = problem(rate(&ent, id, "very_satisfied", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(detail, "已评价（满意），不能重复评价");
    let events = app.store.case_events(&Scope::Zone, id).await.unwrap();
    let kinds: Vec<&str> =
        events.iter().map(|e| e.action.as_str()).filter(|x| ["rate", "callback", "rectify"].contains(x)).collect();
    assert_eq!(kinds, ["rate", "callback", "rectify", "rate"]);
    let tasks: Value = staff.get("/api/v1/approval/ratings").await.json().await.unwrap();
    assert_eq!(tasks["total"], 0);
    let tasks: Value = staff.get("/api/v1/approval/ratings?status=all").await.json().await.unwrap();
    assert_eq!(tasks["total"], 1);

    // Satisfaction: the latest rating counts; the bad one was called back and rectified.
    let today = Date::from_ms(now(&app));
    let f = StatsFilter { from: today.add_days(-10), to: today };
    let sat = app.store.approval_stats(&Scope::Zone, &f).await.unwrap().satisfaction;
    assert_eq!((sat.total.total, sat.total.bad, sat.total.satisfaction), (1, 0, Some(100.0)));
    assert_eq!((sat.bad_ratings, sat.called_back, sat.rectified), (1, 1, 1));
    // The whole zone's figures come from the daily and monthly sums: the same as counting.
    assert_eq!(sat, app.store.satisfaction_stats_counted(&Scope::Zone, &f).await.unwrap());
    assert_eq!(sat.by_item[0].label, "食品生产许可");
    let q = format!("from={}&to={}", f.from, f.to);
    let html = staff.get(&format!("/approval/stats?{q}")).await.text().await.unwrap();
    assert!(html.contains("好差评满意度") && html.contains("data-testid=\"satisfaction-rate\">100.0%"));
    let r = staff.get(&format!("/approval/stats.xlsx?{q}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let api: Value = staff.get(&format!("/api/v1/approval/stats?{q}")).await.json().await.unwrap();
    assert_eq!(api["satisfaction"]["total"]["counts"]["satisfied"], 1);
    // An enterprise sees only its own.
    let own = app.store.approval_stats(&Scope::Enterprise(app.fixture.enterprise("b")), &f).await.unwrap();
    assert_eq!(own.satisfaction.total.total, 0);
    assert_eq!(audits(&app, "approval_rating").await, 2);
    assert_eq!(audits(&app, "approval_rating_handle").await, 2);
    app.cleanup().await;
}
dual!(bad_ratings_are_called_back_rectified_and_rated_again, super::rating);

async fn policy(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let p: Value = staff.get("/api/v1/approval/aftercare-policy").await.json().await.unwrap();
    assert_eq!((p["post_check_days"].as_i64(), p["follow_up_days"].as_i64()), (Some(30), Some(5)));
    let r =
        app.login("ent_a").await.post_json("/api/v1/approval/aftercare-policy", &json!({"post_check_days": 20})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r =
        staff.post_json("/api/v1/approval/aftercare-policy", &json!({"post_check_days": 0, "follow_up_days": 3})).await;
    assert!(problem(r, StatusCode::BAD_REQUEST).await.contains("核查期限应为1至120个工作日"));
    let r = staff
        .post_json("/api/v1/approval/aftercare-policy", &json!({"post_check_days": 20, "follow_up_days": "3"}))
        .await;
    ok(r, "set").await;
    let r = staff.post_form("/approval/settings", &[("post_check_days", "abc"), ("follow_up_days", "3")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("告知承诺核查期限"));
    let r = staff.post_form("/approval/settings", &[("post_check_days", "25"), ("follow_up_days", "4")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let p = app.store.aftercare_policy().await.unwrap();
    assert_eq!((p.post_check_days.get(), p.follow_up_days.get()), (25, 4));
    assert_eq!(audits(&app, "set_approval_aftercare").await, 2);

    // The decision uses the period in force.
    let id = accepted(&app, HYGIENE).await;
    let ent = app.login("ent_a").await;
    ok(ent.post_json(&format!("/api/v1/approval/cases/{id}/commitment"), &json!({"text": "承诺"})).await, "c").await;
    let d = ok(act(&app.login("staff").await, id, a::APPROVE_ON_COMMITMENT, "").await, "decide").await;
    let cal = app.store.calendar().await.unwrap();
    assert_eq!(
        d["commitment"]["check_due"],
        cal.deadline(now(&app), WorkingDays::new(25).unwrap()).to_string().as_str()
    );
    app.cleanup().await;
}
dual!(the_periods_are_configurable, super::policy);

fn ev(action: &str, at: i64, actor: FlowActor, comment: &str) -> HistoricalEvent {
    dianxiaoer_testkit::history_event(action, at, actor, comment)
}

async fn historical(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let t0 = now(&app) - 60 * DAY;
    let staff = FlowActor::Role(Role::DepartmentStaff);
    let case = |code: &str, events: Vec<HistoricalEvent>| HistoricalCase {
        item_code: code.into(),
        enterprise_id: app.fixture.enterprise("a"),
        applicant_id: app.fixture.user("ent_a"),
        applicant_name: "ent_a".into(),
        agency_role: None,
        filed_at: t0 - 60_000,
        materials: all_materials(code),
        missing: Vec::new(),
        events,
    };
    let revoked = case(
        HYGIENE,
        vec![
            ev(a::SUBMIT, t0, FlowActor::Applicant, ""),
            ev(a::ACCEPT, t0 + HOUR, staff, ""),
            ev(a::APPROVE_ON_COMMITMENT, t0 + DAY, staff, ""),
            ev(a::COMPLETE, t0 + DAY + HOUR, staff, ""),
            ev(a::REVOKE, t0 + 20 * DAY, staff, "承诺不实"),
        ],
    );
    let rated = case(
        FOOD,
        vec![
            ev(a::SUBMIT, t0, FlowActor::Applicant, ""),
            ev(a::ACCEPT, t0 + HOUR, staff, ""),
            ev(a::SUBMIT_FOR_DECISION, t0 + DAY, staff, ""),
            ev(a::APPROVE, t0 + DAY + HOUR, staff, ""),
            ev(a::COMPLETE, t0 + DAY + 2 * HOUR, staff, ""),
        ],
    );
    let me = Actor { user_id: None, username: "测试".into(), role: "cli".into(), ip: "local".into() };
    let ids = app.store.insert_historical_case_ids(&me, &[revoked, rated], now(&app)).await.unwrap();
    let by = |at: i64| HistoricalBy { user_id: None, name: "测试".into(), at };
    let failed =
        CheckResult { outcome: CheckOutcome::Failed, method: CheckMethod::Paper, findings: "面积不符".into() };
    let commitment =
        HistoricalCommitment { text: "承诺".into(), by: by(t0 + 2 * HOUR), check: Some((failed, by(t0 + 20 * DAY))) };
    let step = |at: i64, note: &str| HistoricalStep { by: by(at), role: Role::DepartmentStaff, note: note.into() };
    let bad = HistoricalRating {
        level: Level::Dissatisfied,
        comment: "慢".into(),
        by: by(t0 + 3 * DAY),
        callback: Some(step(t0 + 4 * DAY, "已回访")),
        rectify: Some(step(t0 + 10 * DAY, "已整改")),
    };
    let good = HistoricalRating {
        level: Level::VerySatisfied,
        comment: String::new(),
        by: by(t0 + 12 * DAY),
        callback: None,
        rectify: None,
    };
    // A rating again without the rectification breaks the rule: nothing is written.
    let unfixed = HistoricalRating { rectify: None, ..bad.clone() };
    let wrong = [HistoricalAftercare { case_id: ids[1], commitment: None, ratings: vec![unfixed, good.clone()] }];
    assert!(app.store.insert_historical_aftercare(&me, &wrong, now(&app)).await.is_err());
    assert!(app.store.case_ratings(&Scope::Zone, ids[1]).await.unwrap().is_empty());
    let items = [
        HistoricalAftercare { case_id: ids[0], commitment: Some(commitment), ratings: Vec::new() },
        HistoricalAftercare { case_id: ids[1], commitment: None, ratings: vec![bad, good] },
    ];
    assert_eq!(app.store.insert_historical_aftercare(&me, &items, now(&app)).await.unwrap(), 2);
    let k = app.store.case_commitment(&Scope::Zone, ids[0]).await.unwrap().unwrap();
    assert_eq!((k.result.as_deref(), k.check_days), (Some("failed"), Some(30)));
    let history = app.store.enterprise_history(&Scope::Zone, app.fixture.enterprise("a"), 50).await.unwrap();
    assert!(history.iter().any(|h| h.action == "approval_revoke" && h.detail.contains("面积不符")));
    let ratings = app.store.case_ratings(&Scope::Zone, ids[1]).await.unwrap();
    assert_eq!((ratings.len(), ratings[0].latest, ratings[1].rectify_note.as_str()), (2, true, "已整改"));
    let f = StatsFilter { from: Date::from_ms(t0), to: Date::from_ms(now(&app)) };
    let sat = app.store.satisfaction_stats(&Scope::Zone, &f).await.unwrap();
    assert_eq!((sat.total.counts.very_satisfied, sat.bad_ratings, sat.rectified), (1, 1, 1));
    // Sums and counting agree over whole, partial and single months.
    for (from, to) in [(f.from, f.to), (f.from.add_days(-70), f.to.add_days(70)), (f.from, f.from), (f.to, f.to)] {
        let f = StatsFilter { from, to };
        let sums = app.store.satisfaction_stats(&Scope::Zone, &f).await.unwrap();
        assert_eq!(sums, app.store.satisfaction_stats_counted(&Scope::Zone, &f).await.unwrap(), "{from}–{to}");
    }
    app.cleanup().await;
}
dual!(historical_checks_and_ratings_follow_the_rules, super::historical);
