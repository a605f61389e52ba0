//! The demo's approval plans of investment projects (压茬审批): four projects of the first demo
//! enterprises (the first is the `qiye` account's), each with the typical plan (core:
//! `project_plan::default_plan`) and its cases filed by the service centre on the enterprise's
//! behalf (帮代办), scheduled so that the plan's rules hold:
//!
//! - an item is accepted the day after its prerequisites were accepted and the grants they wait for
//!   were given (overlapped: it is accepted and reviewed while its prerequisites are still open), is
//!   submitted for decision after about 60 % of its promised limit, and decided the day after its
//!   last prerequisite's grant at the earliest;
//! - everything scheduled after today is cut off, which leaves items in every state.
//!
//! 1. started 70 working days ago: every item granted, well within the 120-day target;
//! 2. started 5 working days ago: the stage-2 items accepted while 节能审查 of stage 1 is open;
//! 3. started 14 working days ago: 消防设计审查 in 补正, so 施工许可 waits in 决定;
//! 4. started 20 working days ago: 节能审查 refused (不予): the stage-2 items wait in 决定, later
//!    ones are not filed.

use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_core::approval::project_plan::{Plan, default_plan};
use dianxiaoer_core::approval::{Actor as FlowActor, Calendar, Catalogue, Date};
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_store::{Actor, HistoricalCase, HistoricalEvent, PlanChange, ProjectFilter, Store};
use std::collections::HashMap;

/// One demo project's scenario: how many working days ago it started, the item refused, and the item
/// that goes through a 补正 pause of five working days.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub started_ago: u32,
    pub refused: Option<&'static str>,
    pub correction: Option<&'static str>,
}

pub const SCENARIOS: [Scenario; 4] = [
    Scenario { started_ago: 70, refused: None, correction: None },
    Scenario { started_ago: 5, refused: None, correction: None },
    Scenario { started_ago: 14, refused: None, correction: Some("371323-GC-003") },
    Scenario { started_ago: 20, refused: Some("371323-LX-008"), correction: None },
];

/// Working days a 补正 pause lasts in the demo.
const CORRECTION_DAYS: u32 = 5;

/// One action on a project day (working days since the project started) at a minute of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub action: &'static str,
    pub day: u32,
    pub minute: u32,
    pub by_staff: bool,
}

/// The scheduled actions of each plan item (by plan index), before cutting at today. An item with a
/// prerequisite whose own prerequisites are not all granted is not filed yet (overlap reaches one
/// stage of the chain ahead, not further).
pub fn schedule(plan: &Plan, s: &Scenario) -> Vec<Vec<Step>> {
    let n = plan.items().len();
    let mut accept = vec![None::<u32>; n];
    // The day of the grant; `None` while not granted (refused, or waiting for a prerequisite).
    let mut granted = vec![None::<u32>; n];
    let mut steps = vec![Vec::new(); n];
    let mut done = vec![false; n];
    while let Some(i) = (0..n).find(|&i| !done[i] && plan.prerequisites(i).iter().all(|&p| done[p])) {
        done[i] = true;
        let item = &plan.items()[i];
        let pres = plan.prerequisites(i);
        // After each prerequisite's acceptance and after the grants that prerequisite waits for.
        let mut earliest = Some(0u32);
        for &p in pres {
            let before =
                plan.prerequisites(p).iter().map(|&q| granted[q].map(|d| d + 1)).chain([accept[p].map(|d| d + 1)]);
            for d in before {
                earliest = earliest.zip(d).map(|(a, b)| a.max(b));
            }
        }
        let Some(day) = earliest else { continue };
        accept[i] = Some(day);
        let promised = item.promised_limit.get();
        let mut work = if promised == 0 { 0 } else { (promised * 3).div_ceil(5) };
        let st = |action, day, minute, by_staff| Step { action, day, minute, by_staff };
        let list = &mut steps[i];
        list.push(st(a::SUBMIT, day.saturating_sub(1), 560, false));
        list.push(st(a::ACCEPT, day, 600, true));
        if s.correction == Some(item.code.as_str()) {
            list.push(st(a::REQUEST_CORRECTION, day + 1, 660, true));
            list.push(st(a::SUBMIT_CORRECTION, day + 1 + CORRECTION_DAYS, 600, false));
            work += CORRECTION_DAYS + 1;
        }
        // Review done: 提请决定; the decision itself waits for every prerequisite's grant.
        list.push(st(a::SUBMIT_FOR_DECISION, day + work, 840, true));
        let Some(ready) = pres.iter().map(|&p| granted[p]).collect::<Option<Vec<u32>>>() else { continue };
        let decide = (day + work).max(ready.iter().map(|d| d + 1).max().unwrap_or(0));
        if s.refused == Some(item.code.as_str()) {
            list.push(st(a::REFUSE, decide, 900, true));
        } else {
            list.push(st(a::APPROVE, decide, 900, true));
            granted[i] = Some(decide);
        }
        list.push(st(a::COMPLETE, decide, 960, true));
    }
    steps
}

fn at(day: Date, minute: u32) -> i64 {
    day.start_ms() + i64::from(minute) * 60_000
}

/// Loads the four projects' plans and cases; `users` maps the demo's usernames to (id, name).
pub async fn load(
    store: &Store,
    actor: &Actor,
    credit_codes: &[String],
    users: &HashMap<&str, (i64, String)>,
    now: i64,
) -> Result<(), String> {
    let e = |e: dianxiaoer_store::Error| e.to_string();
    let staff = users.get("staff").cloned().ok_or("演示账号 staff 缺失")?;
    let catalogue = Catalogue::builtin();
    let plan = default_plan(catalogue, &[]).map_err(|x| x.message)?;
    let cal = Calendar::statutory();
    let today = Date::from_ms(now);
    let mut back = vec![today];
    let mut d = today;
    while back.len() <= 100 {
        d = d.add_days(-1);
        if cal.is_working_day(d) {
            back.push(d);
        }
    }
    let zone = Scope::Zone;
    for (scenario, code) in SCENARIOS.iter().zip(credit_codes) {
        CreditCode::parse(code).map_err(|x| x.message)?;
        let f = ProjectFilter { q: Some(code.clone()), ..Default::default() };
        let Some(project) = store.list_projects(&zone, &f, 1, 1).await.map_err(e)?.items.into_iter().next() else {
            continue;
        };
        store.change_plan(actor, &zone, project.id, &PlanChange::AddItems(Vec::new()), now).await.map_err(e)?;
        let mut cases = Vec::new();
        for (i, steps) in schedule(&plan, scenario).into_iter().enumerate() {
            let Some(item) = plan.items().get(i) else { continue };
            // Project day k lies `started_ago - k` working days back; today and later are cut.
            let date =
                |day: u32| scenario.started_ago.checked_sub(day).filter(|ago| *ago >= 1).map(|ago| back[ago as usize]);
            let events: Vec<HistoricalEvent> = steps
                .iter()
                .map_while(|s| date(s.day).map(|d| (s, d)))
                .map(|(s, d)| HistoricalEvent {
                    action: s.action.to_owned(),
                    at: at(d, s.minute),
                    actor_id: Some(staff.0),
                    actor_name: staff.1.clone(),
                    actor: if s.by_staff { FlowActor::Role(Role::DepartmentStaff) } else { FlowActor::Applicant },
                    comment: match s.action {
                        a::REFUSE => "项目能耗指标超出区域能耗双控要求".to_owned(),
                        a::REQUEST_CORRECTION => "消防设计文件缺少防火分区说明，请补正".to_owned(),
                        _ => String::new(),
                    },
                })
                .collect();
            let Some(first) = events.first() else { continue };
            let materials = catalogue
                .get(item.code.as_str())
                .map(|x| x.materials.iter().filter(|m| !m.fetchable).map(|m| m.name.clone()).collect())
                .unwrap_or_default();
            cases.push(HistoricalCase {
                item_code: item.code.to_string(),
                enterprise_id: project.enterprise_id,
                applicant_id: staff.0,
                applicant_name: staff.1.clone(),
                agency_role: Some(Role::DepartmentStaff.code().to_owned()),
                filed_at: first.at - 10 * 60_000,
                materials,
                missing: Vec::new(),
                events,
            });
        }
        let ids = store.insert_historical_case_ids(actor, &cases, now).await.map_err(e)?;
        for id in ids {
            store.attach_plan_case(actor, &zone, project.id, id, now).await.map_err(e)?;
        }
    }
    store.seal_missing_certificates(actor, now).await.map_err(e)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use dianxiaoer_core::approval::project_plan::{Progress, TARGET_DAYS};

    fn plan() -> Plan {
        default_plan(Catalogue::builtin(), &[]).unwrap()
    }

    /// The day of `action` for item `code`, if scheduled.
    fn day(plan: &Plan, steps: &[Vec<Step>], code: &str, action: &str) -> Option<u32> {
        steps[plan.index(code).unwrap()].iter().find(|s| s.action == action).map(|s| s.day)
    }

    #[test]
    fn decisions_follow_their_prerequisites_and_overlap_acceptance() {
        let plan = plan();
        let steps = schedule(&plan, &SCENARIOS[0]);
        for (i, list) in steps.iter().enumerate() {
            let Some(decided) = list.iter().find(|s| s.action == a::APPROVE).map(|s| s.day) else {
                panic!("{} not granted", plan.items()[i].code)
            };
            for &p in plan.prerequisites(i) {
                let pre = steps[p].iter().find(|s| s.action == a::APPROVE).unwrap().day;
                assert!(pre < decided, "{} before {}", plan.items()[p].code, plan.items()[i].code);
            }
        }
        // Overlap: 设计方案审查 (stage 2) is accepted before 节能审查 (stage 1) is granted.
        let design = day(&plan, &steps, "371323-GH-005", a::ACCEPT).unwrap();
        assert!(design < day(&plan, &steps, "371323-LX-008", a::APPROVE).unwrap());
        assert!(design < SCENARIOS[1].started_ago, "visible in the second project");
        assert!(day(&plan, &steps, "371323-LX-008", a::APPROVE).unwrap() >= SCENARIOS[1].started_ago);
        // The whole project within the target and before today in the first scenario.
        let last = steps.iter().flatten().map(|s| s.day).max().unwrap();
        assert!(last < SCENARIOS[0].started_ago && last <= TARGET_DAYS, "{last}");
        let progress: Vec<Progress> = steps
            .iter()
            .map(|l| {
                let acc = l.iter().find(|s| s.action == a::ACCEPT).unwrap().day;
                let dec = l.iter().find(|s| s.action == a::APPROVE).unwrap().day;
                Progress::Granted { elapsed: dec - acc }
            })
            .collect();
        assert!(plan.projection(&progress).meets_target);
    }

    #[test]
    fn a_refused_item_leaves_its_dependants_waiting() {
        let plan = plan();
        let steps = schedule(&plan, &SCENARIOS[3]);
        assert!(day(&plan, &steps, "371323-LX-008", a::REFUSE).is_some());
        for code in ["371323-GH-005", "371323-HP-002"] {
            assert_eq!(day(&plan, &steps, code, a::APPROVE), None, "{code}");
            assert!(day(&plan, &steps, code, a::SUBMIT_FOR_DECISION).is_some(), "{code}");
        }
        for code in ["371323-GH-003", "371323-GC-001", "371323-GC-002"] {
            assert!(steps[plan.index(code).unwrap()].is_empty(), "{code} not filed");
        }
    }

    #[test]
    fn the_correction_delays_the_permit() {
        let plan = plan();
        let plain = schedule(&plan, &SCENARIOS[0]);
        let paused = schedule(&plan, &SCENARIOS[2]);
        let permit = |s: &[Vec<Step>]| day(&plan, s, "371323-GC-001", a::APPROVE).unwrap();
        assert!(permit(&paused) > permit(&plain));
        // On the third project's today: 消防设计审查 in 补正, 施工许可 submitted for decision.
        let today = SCENARIOS[2].started_ago;
        let pause = day(&plan, &paused, "371323-GC-003", a::REQUEST_CORRECTION).unwrap();
        assert!(pause < today && day(&plan, &paused, "371323-GC-003", a::SUBMIT_CORRECTION).unwrap() >= today);
        assert!(day(&plan, &paused, "371323-GC-001", a::SUBMIT_FOR_DECISION).unwrap() < today);
    }
}
