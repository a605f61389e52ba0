//! Approval statistics and the escalation job on both backends: cases bulk-loaded with their history
//! in March 2021 are counted per category with their average and longest working days (补正 not
//! counted), the efficiency figure and the late ones; the scope of an enterprise user; the escalation
//! job after the clock moves on: an overdue case and a case nobody accepted are reported to leadership
//! once (a second run changes nothing) and show in the leader's inbox, a 容缺 case past its deadline
//! is terminated with the reason on the enterprise's history; the Excel exports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_core::approval::{Actor as FlowActor, Catalogue, Category, Date};
use dianxiaoer_store::{Actor, HistoricalCase, HistoricalEvent, StatsFilter};
use dianxiaoer_testkit::{Backend, TestApp, dual};
use reqwest::StatusCode;
use serde_json::Value;

/// 食品生产许可 (工商): promised 5 working days, 容缺 allowed.
const FOOD: &str = "371323-GS-005";
/// 企业设立登记 (工商): 容缺 allowed.
const SETUP: &str = "371323-GS-001";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn at(y: i32, m: u32, d: u32, hour: i64) -> i64 {
    Date::new(y, m, d).unwrap().start_ms() + hour * HOUR
}

fn now(app: &TestApp) -> i64 {
    use dianxiaoer_web::Clock;
    app.clock.now_ms()
}

fn staff() -> FlowActor {
    FlowActor::Role(Role::DepartmentStaff)
}

fn ev(action: &str, at: i64, actor: FlowActor) -> HistoricalEvent {
    let comment = if action == a::REQUEST_CORRECTION { "请补正" } else { "" };
    dianxiaoer_testkit::history_event(action, at, actor, comment)
}

fn case(app: &TestApp, item: &str, enterprise: &str, events: Vec<HistoricalEvent>, missing: &[&str]) -> HistoricalCase {
    let user = if enterprise == "a" { "ent_a" } else { "ent_b" };
    HistoricalCase {
        item_code: item.into(),
        enterprise_id: app.fixture.enterprise(enterprise),
        applicant_id: app.fixture.user(user),
        applicant_name: user.into(),
        agency_role: None,
        filed_at: events.first().map_or(0, |e| e.at - 60_000),
        materials: Catalogue::builtin()
            .get(item)
            .unwrap()
            .materials
            .iter()
            .filter(|m| !m.fetchable && !missing.contains(&m.name.as_str()))
            .map(|m| m.name.clone())
            .collect(),
        missing: missing.iter().map(|m| (*m).to_string()).collect(),
        events,
    }
}

/// submit, accept on `accept`, decide and complete on `done` (16:00).
fn completed(
    app: &TestApp,
    item: &str,
    ent: &str,
    accept: i64,
    pause: Option<(i64, i64)>,
    done: i64,
) -> HistoricalCase {
    let mut e = vec![ev(a::SUBMIT, accept - HOUR, FlowActor::Applicant), ev(a::ACCEPT, accept, staff())];
    if let Some((from, until)) = pause {
        e.push(ev(a::REQUEST_CORRECTION, from, staff()));
        e.push(ev(a::SUBMIT_CORRECTION, until, FlowActor::Applicant));
    }
    e.push(ev(a::SUBMIT_FOR_DECISION, done - 2 * HOUR, staff()));
    e.push(ev(a::APPROVE, done - HOUR, FlowActor::Role(Role::Leader)));
    e.push(ev(a::COMPLETE, done, staff()));
    case(app, item, ent, e, &[])
}

fn actor() -> Actor {
    Actor { user_id: None, username: "测试".into(), role: "cli".into(), ip: "local".into() }
}

async fn stats_and_escalation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cat = Catalogue::builtin();
    let food = cat.get(FOOD).unwrap();
    let planning = cat.in_category(Category::Planning).find(|i| i.promised_limit.get() >= 3).unwrap();
    let (p_limit, p_code) = (i64::from(planning.promised_limit.get()), planning.code.to_string());

    // March 2021: 1 March is a Monday, no holidays until 清明 (3–5 April).
    let mut cases = vec![
        // 2 working days.
        completed(&app, FOOD, "a", at(2021, 3, 1, 9), None, at(2021, 3, 3, 16)),
        // 5 working days (2, 3, 4, 5, 8 March) less the 补正 from the 2nd to the 4th: 3.
        completed(
            &app,
            FOOD,
            "a",
            at(2021, 3, 1, 9),
            Some((at(2021, 3, 2, 11), at(2021, 3, 4, 10))),
            at(2021, 3, 8, 16),
        ),
    ];
    // Planning, two working days late: accepted Monday 1 March, done limit + 2 working days later.
    let cal = app.store.calendar().await.unwrap();
    let late_day = cal.add_working_days(
        Date::new(2021, 3, 1).unwrap(),
        dianxiaoer_core::approval::WorkingDays::new(u32::try_from(p_limit + 2).unwrap()).unwrap(),
    );
    cases.push(completed(&app, &p_code, "b", at(2021, 3, 1, 9), None, late_day.start_ms() + 16 * HOUR));
    // Open cases now: accepted (limit 5), accepted with missing materials, submitted and never taken.
    let t0 = now(&app);
    cases.push(case(
        &app,
        FOOD,
        "a",
        vec![ev(a::SUBMIT, t0, FlowActor::Applicant), ev(a::ACCEPT, t0 + 60_000, staff())],
        &[],
    ));
    cases.push(case(
        &app,
        SETUP,
        "b",
        vec![ev(a::SUBMIT, t0, FlowActor::Applicant), ev(a::ACCEPT_DEFICIENT, t0 + 60_000, staff())],
        &["住所使用证明"],
    ));
    cases.push(case(&app, FOOD, "b", vec![ev(a::SUBMIT, t0, FlowActor::Applicant)], &[]));
    assert_eq!(app.store.insert_historical_cases(&actor(), &cases, t0).await.unwrap(), 6);

    // A refused event order is refused whole.
    let bad = case(&app, FOOD, "a", vec![ev(a::APPROVE, t0, staff())], &[]);
    assert!(app.store.insert_historical_cases(&actor(), &[bad], t0).await.is_err());

    let march = StatsFilter { from: Date::new(2021, 3, 1).unwrap(), to: Date::new(2021, 3, 31).unwrap() };
    let r = app.store.approval_stats(&Scope::Zone, &march).await.unwrap();
    assert_eq!(r.total.count, 3);
    same_as_cases(&app, &march).await;
    // Partial months at both ends, whole months between, and a range within one month.
    for (from, to) in [((2021, 2, 15), (2021, 4, 20)), ((2021, 3, 2), (2021, 3, 5)), ((2020, 12, 31), (2021, 12, 1))] {
        let f =
            StatsFilter { from: Date::new(from.0, from.1, from.2).unwrap(), to: Date::new(to.0, to.1, to.2).unwrap() };
        same_as_cases(&app, &f).await;
    }
    let business = r.by_category.iter().find(|g| g.label == "工商").unwrap();
    assert_eq!((business.count, business.max_elapsed, business.overdue), (2, 3, 0));
    assert!((business.avg_elapsed - 2.5).abs() < 1e-9);
    let statutory = i64::from(food.statutory_limit.get());
    let expected = (2.0 * statutory as f64 - 5.0) * 100.0 / (2.0 * statutory as f64);
    assert!((business.efficiency.unwrap() - expected).abs() < 1e-9);
    let plan = r.by_category.iter().find(|g| g.label == "规划").unwrap();
    assert_eq!((plan.count, plan.max_elapsed, plan.overdue), (1, p_limit + 2, 1));
    assert_eq!(r.by_category.iter().find(|g| g.label == "环评").unwrap().count, 0);
    assert_eq!(r.by_month.len(), 1);
    assert_eq!(r.by_month[0].key, "2021-03");
    assert_eq!(r.by_item.iter().map(|g| g.count).sum::<i64>(), 3);
    assert_eq!(r.total.overdue, 1);
    // Another period has nothing.
    let april = StatsFilter { from: Date::new(2021, 4, 1).unwrap(), to: Date::new(2021, 4, 30).unwrap() };
    assert_eq!(app.store.approval_stats(&Scope::Zone, &april).await.unwrap().total.count, 0);

    // The API: staff see everything, an enterprise only its own cases.
    let staff_s = app.login("staff").await;
    let v: Value = staff_s.get("/api/v1/approval/stats?from=2021-03-01&to=2021-03-31").await.json().await.unwrap();
    assert_eq!(v["total"]["count"], 3);
    let v: Value = staff_s.get("/api/v1/approval/stats?year=2021&month=3").await.json().await.unwrap();
    assert_eq!(v["total"]["count"], 3);
    assert_eq!(staff_s.get("/api/v1/approval/stats?year=2021&month=13").await.status(), StatusCode::BAD_REQUEST);
    let ent = app.login("ent_b").await;
    let v: Value = ent.get("/api/v1/approval/stats?year=2021").await.json().await.unwrap();
    assert_eq!(v["total"]["count"], 1);
    assert_eq!(v["by_category"].as_array().unwrap().iter().find(|g| g["label"] == "规划").unwrap()["count"], 1);

    // Overdue lists: the late planning case; nothing open is overdue yet.
    let page = staff_s.get("/approval/overdue?year=2021").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("超期办结") && html.contains(planning.name.trim()));
    let (open, late) = app.store.overdue_cases(&Scope::Zone, &cal, Date::from_ms(t0), &march, 100).await.unwrap();
    assert!(open.is_empty());
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].days_over, 2);

    // Excel.
    for path in ["/approval/stats.xlsx?year=2021", "/approval/overdue.xlsx?year=2021"] {
        let r = staff_s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
    let page = staff_s.get("/approval/stats?year=2021").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("审批统计"));

    // Nothing is due yet; the 容缺 case (a promised limit of one working day) has its applicant
    // reminded of the deadline, once, without reporting it to leadership.
    let first = app.store.escalate_overdue(t0).await.unwrap();
    assert_eq!(first.reminded.len(), 1, "{first:?}");
    let reminded = first.reminded[0].clone();
    assert_eq!(
        dianxiaoer_store::EscalationReport { reminded: Vec::new(), ..first },
        dianxiaoer_store::EscalationReport::default()
    );
    assert_eq!(app.store.escalate_overdue(t0).await.unwrap(), dianxiaoer_store::EscalationReport::default());
    let leader_s = app.login("leader").await;
    let inbox: Value = leader_s.get("/api/v1/approval/cases?box=inbox").await.json().await.unwrap();
    assert!(!inbox["items"].as_array().unwrap().iter().any(|c| c["case_no"] == reminded.as_str()));

    // Six weeks later.
    app.clock.advance_ms(42 * DAY);
    let t1 = now(&app);
    let report = app.store.escalate_overdue(t1).await.unwrap();
    let me = actor();
    let caller = dianxiaoer_store::Caller { actor: &me, role: Role::Leader, scope: &Scope::Zone };
    let filter = dianxiaoer_store::CaseFilter::default();
    let mut all = app.store.export_cases(&caller, &filter, 100).await.unwrap();
    all.sort_by_key(|c| c.id);
    let nos: Vec<String> = all.into_iter().map(|c| c.case_no).collect();
    // Loaded in filing order: the three of 2021, then the three open ones of 2026.
    assert_eq!(report.overdue, vec![nos[3].clone()]);
    assert_eq!(report.terminated, vec![nos[4].clone()]);
    assert_eq!(reminded, nos[4]);
    assert_eq!(report.unaccepted, vec![nos[5].clone()]);
    // Idempotent.
    assert_eq!(app.store.escalate_overdue(t1).await.unwrap(), dianxiaoer_store::EscalationReport::default());
    app.clock.advance_ms(DAY);
    assert_eq!(app.store.escalate_overdue(now(&app)).await.unwrap(), dianxiaoer_store::EscalationReport::default());

    let leader = app.login("leader").await;
    let inbox: Value = leader.get("/api/v1/approval/cases?box=inbox").await.json().await.unwrap();
    let in_inbox: Vec<&str> =
        inbox["items"].as_array().unwrap().iter().map(|c| c["case_no"].as_str().unwrap()).collect();
    assert!(in_inbox.contains(&nos[3].as_str()) && in_inbox.contains(&nos[5].as_str()), "{in_inbox:?}");
    assert!(!in_inbox.contains(&nos[4].as_str()));

    let overdue_case: Value = leader.get("/api/v1/approval/cases?box=all").await.json().await.unwrap();
    let id = |no: &str| {
        overdue_case["items"].as_array().unwrap().iter().find(|c| c["case_no"] == no).unwrap()["id"].as_i64().unwrap()
    };
    let events = app.store.case_events(&Scope::Zone, id(&nos[3])).await.unwrap();
    let escalations: Vec<_> = events.iter().filter(|e| e.action == "escalate").collect();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].from_state, escalations[0].to_state);
    assert!(escalations[0].sla_left_days.unwrap() < 0);
    // The overall clock keeps running: the deadline did not move.
    let o = app.store.case(&Scope::Zone, id(&nos[3])).await.unwrap();
    assert_eq!(o.deadline, Some(cal.deadline(t0 + 60_000, food.promised_limit).to_string()));

    let terminated = app.store.case(&Scope::Zone, id(&nos[4])).await.unwrap();
    assert_eq!(terminated.state, "terminated");
    let history = app.store.enterprise_history(&Scope::Zone, app.fixture.enterprise("b"), 50).await.unwrap();
    let reminder = app.store.case_events(&Scope::Zone, id(&nos[4])).await.unwrap();
    let reminder = reminder.iter().find(|e| e.action_name == "容缺补正提醒").expect("the reminder is on the case");
    assert!(
        reminder.comment.contains("住所使用证明") && reminder.comment.contains("逾期将终止办理"),
        "{}",
        reminder.comment
    );
    let entry = history.iter().find(|h| h.action == "approval_auto_terminate").expect("on the enterprise's file");
    assert!(entry.detail.contains("住所使用证明") && entry.detail.contains(&nos[4]));

    let (open, _) = app.store.overdue_cases(&Scope::Zone, &cal, Date::from_ms(t1), &march, 100).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].escalations, 1);
    let html = leader.get("/approval/overdue").await.text().await.unwrap();
    assert!(html.contains(&nos[3]) && html.contains("已报领导"));
    app.cleanup().await;
}

dual!(stats_and_escalation_on_both_backends, super::stats_and_escalation);

/// A case completed through the actions keeps its working days for the statistics.
/// The whole zone's figures, read from the daily sums, equal those counted from the cases.
async fn same_as_cases(app: &TestApp, f: &StatsFilter) {
    let r = app.store.approval_stats(&Scope::Zone, f).await.unwrap();
    let exact = app.store.approval_stats_from_cases(&Scope::Zone, f).await.unwrap();
    let nonempty =
        |g: &Vec<dianxiaoer_store::StatsGroup>| g.iter().filter(|g| g.count > 0).cloned().collect::<Vec<_>>();
    let by_category: Vec<_> = r.by_category.iter().filter(|g| g.count > 0).cloned().collect();
    let mut exact_categories = nonempty(&exact[1]);
    for g in &mut exact_categories {
        g.label = dianxiaoer_store::category_label(&g.key).to_owned();
    }
    assert_eq!(vec![r.total.clone()].into_iter().filter(|g| g.count > 0).collect::<Vec<_>>(), nonempty(&exact[0]));
    assert_eq!(by_category, exact_categories);
    // Items are labelled from the catalogue afterwards; the figures must agree.
    let figures = |g: &dianxiaoer_store::StatsGroup| (g.key.clone(), g.count, g.max_elapsed, g.overdue, g.efficiency);
    let items: Vec<_> = r.by_item.iter().map(figures).collect();
    assert_eq!(items, nonempty(&exact[2]).iter().map(figures).collect::<Vec<_>>());
    // Department names are Chinese: compare without the database's collation order.
    let sorted = |mut v: Vec<dianxiaoer_store::StatsGroup>| {
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    };
    assert_eq!(sorted(r.by_department.clone()), sorted(nonempty(&exact[3])));
    assert_eq!(r.by_month, nonempty(&exact[4]));
    // The overdue page's count of late completions, from the sums and from the cases.
    let today = Date::from_ms(now(app));
    let (_, late) = app.store.overdue_counts(&Scope::Zone, today, f).await.unwrap();
    let (_, late_cases) =
        app.store.overdue_counts(&Scope::Enterprise(app.fixture.enterprise("a")), today, f).await.unwrap();
    assert_eq!(late, exact[0].first().map_or(0, |g| g.overdue));
    assert!(late_cases <= late);
}

async fn completion_through_actions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let t0 = now(&app);
    let c = case(&app, FOOD, "a", vec![ev(a::SUBMIT, t0, FlowActor::Applicant)], &[]);
    app.store.insert_historical_cases(&actor(), &[c], t0).await.unwrap();
    let staff_s = app.login("staff").await;
    let all: Value = staff_s.get("/api/v1/approval/cases?box=all").await.json().await.unwrap();
    let id = all["items"][0]["id"].as_i64().unwrap();
    for (action, days) in [(a::ACCEPT, 0), (a::SUBMIT_FOR_DECISION, 3), (a::APPROVE, 0), (a::COMPLETE, 0)] {
        app.clock.advance_ms(days * DAY);
        // A fresh session: the idle timeout is shorter than the days the clock moves.
        let staff_s = app.login("staff").await;
        let r = staff_s
            .post_json(&format!("/api/v1/approval/cases/{id}/actions"), &serde_json::json!({"action": action}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let today = Date::from_ms(now(&app));
    let f = StatsFilter { from: today, to: today };
    let r = app.store.approval_stats(&Scope::Zone, &f).await.unwrap();
    assert_eq!(r.total.count, 1);
    same_as_cases(&app, &f).await;
    let year = StatsFilter { from: Date::new(2000, 1, 1).unwrap(), to: Date::new(2099, 12, 31).unwrap() };
    same_as_cases(&app, &year).await;
    let cal = app.store.calendar().await.unwrap();
    let expected = cal.elapsed_working_days(t0, now(&app));
    assert_eq!(r.total.max_elapsed, i64::from(expected));
    app.cleanup().await;
}

dual!(completion_through_actions_on_both_backends, super::completion_through_actions);
