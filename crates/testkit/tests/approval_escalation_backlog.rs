//! The escalation job over a backlog larger than one batch, on both backends: 1,030 open cases past
//! their deadline (every other one with a finished 补正 pause) are each escalated exactly once by two
//! runs started together, each with one event whose working days left count the pause as the case's
//! own clock does; the audit log holds one record per batch naming every case, and its chain holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::case::days_left;
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_core::approval::{Actor as FlowActor, Calendar, Catalogue, Date, Pause};
use dianxiaoer_store::{Actor, AuditFilter, HistoricalCase, HistoricalEvent};
use dianxiaoer_testkit::{Backend, TestApp, dual};
use std::collections::HashSet;

/// 食品生产许可 (工商): promised 5 working days.
const FOOD: &str = "371323-GS-005";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const CASES: usize = 1_030;

fn ev(action: &str, at: i64, actor: FlowActor) -> HistoricalEvent {
    let comment = if action == a::REQUEST_CORRECTION { "请补正" } else { "" };
    dianxiaoer_testkit::history_event(action, at, actor, comment)
}

fn actor() -> Actor {
    Actor { user_id: None, username: "测试".into(), role: "cli".into(), ip: "local".into() }
}

async fn backlog(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let now = {
        use dianxiaoer_web::Clock;
        app.clock.now_ms()
    };
    let cal = Calendar::statutory();
    let item = Catalogue::builtin().get(FOOD).unwrap().clone();
    let staff = FlowActor::Role(Role::DepartmentStaff);
    // Accepted 10:00 on working days six to eight weeks ago; every other case paused for 补正.
    let mut expected = Vec::with_capacity(CASES);
    let mut rows = Vec::with_capacity(CASES);
    for n in 0..CASES {
        let day = cal.first_working_day_from(Date::from_ms(now - (42 + (n % 14) as i64) * DAY));
        let accept = day.start_ms() + 10 * HOUR;
        let mut events = vec![ev(a::SUBMIT, accept - HOUR, FlowActor::Applicant), ev(a::ACCEPT, accept, staff)];
        let mut pauses = Vec::new();
        if n % 2 == 1 {
            let (from, until) = (accept + DAY, accept + 3 * DAY);
            events.push(ev(a::REQUEST_CORRECTION, from, staff));
            events.push(ev(a::SUBMIT_CORRECTION, until, FlowActor::Applicant));
            pauses.push(Pause::new(from, Some(until)).unwrap());
        }
        expected.push(days_left(&cal, accept, now, item.promised_limit.get(), &pauses));
        rows.push(HistoricalCase {
            item_code: FOOD.into(),
            enterprise_id: app.fixture.enterprise("a"),
            applicant_id: app.fixture.user("ent_a"),
            applicant_name: "ent_a".into(),
            agency_role: None,
            filed_at: accept - 2 * HOUR,
            materials: item.materials.iter().filter(|m| !m.fetchable).map(|m| m.name.clone()).collect(),
            missing: Vec::new(),
            events,
        });
    }
    let ids = app.store.insert_historical_case_ids(&actor(), &rows, now).await.unwrap();
    assert_eq!(ids.len(), CASES);

    // Two runs at once, as two instances would: every case once, in one run or the other.
    let (one, two) = tokio::join!(app.store.escalate_overdue(now), app.store.escalate_overdue(now));
    let (one, two) = (one.unwrap(), two.unwrap());
    let first: HashSet<&String> = one.overdue.iter().collect();
    let second: HashSet<&String> = two.overdue.iter().collect();
    assert!(first.is_disjoint(&second), "escalated twice: {:?}", first.intersection(&second).collect::<Vec<_>>());
    assert_eq!(first.len() + second.len(), CASES);
    assert_eq!(app.store.escalate_overdue(now).await.unwrap(), dianxiaoer_store::EscalationReport::default());

    for (id, left) in ids.iter().zip(&expected) {
        let events = app.store.case_events(&Scope::Zone, *id).await.unwrap();
        let esc: Vec<_> = events.iter().filter(|e| e.action == "escalate").collect();
        assert_eq!(esc.len(), 1, "case {id}");
        assert_eq!(esc[0].action_name, "超期督办");
        assert_eq!(esc[0].from_state, esc[0].to_state);
        assert_eq!(esc[0].sla_left_days, Some(*left), "case {id}");
        assert!(*left < 0);
    }

    let f = AuditFilter { action: Some("approval_escalate".into()), ..AuditFilter::default() };
    let records = app.store.export_audit(&f, 100).await.unwrap();
    // 1,030 in batches of at most 500, split over the two runs: three to four records.
    assert!((3..=4).contains(&records.len()), "{} records", records.len());
    let mut named = HashSet::new();
    for r in &records {
        let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap();
        let cases = detail["cases"].as_array().unwrap();
        assert_eq!(detail["count"].as_u64().unwrap() as usize, cases.len());
        for c in cases {
            assert_eq!(c["level"], "overdue");
            assert!(named.insert(c["case_id"].as_i64().unwrap()));
        }
    }
    assert_eq!(named, ids.iter().copied().collect::<HashSet<_>>());
    assert_eq!(app.store.verify_audit_chain().await.unwrap().first_bad_seq, None);
}

dual!(backlog_on_both_backends, super::backlog);
