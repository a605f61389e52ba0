//! Tests of `project_plan.rs`.

use super::*;

fn wd(n: u32) -> WorkingDays {
    WorkingDays::new(n).unwrap()
}

/// A made-up item of `stage` with the given limits; codes must be valid (`371323-GC-1xx`).
fn item(n: u32, stage: ConstructionStage, statutory: u32, promised: u32) -> PlanItem {
    PlanItem {
        code: ItemCode::parse(&format!("371323-GC-{:03}", 100 + n)).unwrap(),
        name: format!("事项{n}"),
        stage,
        statutory_limit: wd(statutory),
        promised_limit: wd(promised),
    }
}

fn code(n: u32) -> String {
    format!("371323-GC-{:03}", 100 + n)
}

fn e(a: u32, b: u32) -> Edge {
    Edge::new(&code(a), &code(b))
}

use ConstructionStage::{
    CompletionAcceptance as S4, ConstructionPermit as S3, EngineeringPermit as S2, LandUsePlanning as S1,
};

/// 1 → {2, 3} → 4: the diamond.
fn diamond(d2: u32, d3: u32) -> Plan {
    let items = vec![item(1, S1, 10, 5), item(2, S2, d2, 5), item(3, S2, d3, 5), item(4, S3, 7, 3)];
    Plan::new(items, &[e(2, 1), e(3, 1), e(4, 2), e(4, 3)]).unwrap()
}

fn err(items: Vec<PlanItem>, edges: &[Edge]) -> String {
    Plan::new(items, edges).unwrap_err().message
}

#[test]
fn items_are_ordered_by_stage_then_code_and_edges_round_trip() {
    let plan = Plan::new(vec![item(3, S2, 1, 1), item(1, S1, 1, 1), item(2, S1, 1, 1)], &[e(3, 1), e(3, 2)]).unwrap();
    let codes: Vec<&str> = plan.items().iter().map(|i| i.code.as_str()).collect();
    assert_eq!(codes, [code(1), code(2), code(3)]);
    assert_eq!(plan.edges(), vec![e(3, 1), e(3, 2)]);
    assert_eq!(plan.prerequisites(2), &[0, 1]);
    assert_eq!(plan.index(&format!(" {} ", code(2))), Some(1));
}

#[test]
fn validation_names_the_items() {
    let two = || vec![item(1, S1, 1, 1), item(2, S2, 1, 1)];
    assert_eq!(
        err(two(), &[Edge::new(&code(2), "371323-GC-999")]),
        "前置关系中的事项“371323-GC-999”不在本项目的审批计划中"
    );
    assert_eq!(err(two(), &[e(1, 1)]), "事项事项1（371323-GC-101）不能以自身为前置事项");
    assert_eq!(
        err(two(), &[e(1, 2)]),
        "事项事项1（371323-GC-101）（立项用地规划许可）不能以后一阶段的事项2（371323-GC-102）（工程建设许可）为前置事项"
    );
    assert_eq!(err(vec![item(1, S1, 1, 1), item(1, S1, 1, 1)], &[]), "事项事项1（371323-GC-101）重复列入计划");
    // Several problems at once, each named.
    let m = err(two(), &[e(1, 1), e(1, 2)]);
    assert!(m.contains("自身") && m.contains("后一阶段"), "{m}");
    // A duplicate edge is one edge.
    assert_eq!(Plan::new(two(), &[e(2, 1), e(2, 1)]).unwrap().edges(), vec![e(2, 1)]);
}

#[test]
fn a_cycle_is_refused_with_its_items() {
    let items = vec![item(1, S3, 1, 1), item(2, S3, 1, 1), item(3, S3, 1, 1), item(4, S4, 1, 1)];
    let m = err(items, &[e(1, 2), e(2, 3), e(3, 1), e(4, 1)]);
    assert!(m.starts_with("前置关系形成循环："), "{m}");
    for n in 1..=3 {
        assert!(m.contains(&code(n)), "{m}");
    }
    assert!(!m.contains(&code(4)), "only the cycle is named: {m}");
    // The first item of the cycle closes it.
    let parts: Vec<&str> = m.trim_start_matches("前置关系形成循环：").split(" → ").collect();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts.first(), parts.last());
}

#[test]
fn an_empty_plan_has_no_path_and_meets_the_target() {
    let plan = Plan::new(Vec::new(), &[]).unwrap();
    assert!(plan.is_empty());
    let p = plan.projection(&[]);
    assert_eq!(p.critical, CriticalPath { items: vec![], days: 0 });
    assert_eq!((p.sequential_days, p.meets_target, p.complete), (0, true, false));
    assert_eq!(err(Vec::new(), &[e(1, 2)]).matches("不在本项目的审批计划中").count(), 2);
}

#[test]
fn the_diamond_takes_its_longer_branch() {
    let plan = diamond(20, 30);
    let cp = plan.critical_path(&[10, 20, 30, 7]);
    assert_eq!((cp.items, cp.days), (vec![0, 2, 3], 47));
    assert_eq!(plan.sequential_days(), 10 + 20 + 30 + 7);
}

#[test]
fn ties_go_to_the_item_listed_first() {
    let plan = diamond(20, 20);
    assert_eq!(plan.critical_path(&[10, 20, 20, 7]).items, vec![0, 1, 3]);
    // Two ends of equal length: the first listed.
    let plan = Plan::new(vec![item(1, S1, 5, 1), item(2, S1, 5, 1)], &[]).unwrap();
    assert_eq!(plan.critical_path(&[5, 5]), CriticalPath { items: vec![0], days: 5 });
}

#[test]
fn a_prerequisite_within_a_stage_listed_later_is_ordered_first() {
    // 101 requires 102 in the same stage: 102 comes later in the list but first on the path.
    let plan = Plan::new(vec![item(1, S3, 7, 3), item(2, S3, 5, 1)], &[e(1, 2)]).unwrap();
    assert_eq!(plan.critical_path(&[7, 5]), CriticalPath { items: vec![1, 0], days: 12 });
}

#[test]
fn durations_follow_the_rule() {
    let i = item(1, S1, 20, 10);
    assert_eq!(Progress::NotStarted.duration(&i), 20, "not accepted: statutory limit");
    assert_eq!(Progress::Open { elapsed: 4 }.duration(&i), 10, "open: elapsed + rest of the promised limit");
    assert_eq!(Progress::Open { elapsed: 13 }.duration(&i), 13, "late: what it took so far");
    assert_eq!(Progress::Granted { elapsed: 6 }.duration(&i), 6, "decided: what it took");
    assert_eq!(Progress::Closed { elapsed: 6 }.duration(&i), 26, "refused: used + a new application");
}

#[test]
fn decision_waits_for_granted_prerequisites_only() {
    let plan = diamond(20, 30);
    let (ns, open, ok) = (Progress::NotStarted, Progress::Open { elapsed: 1 }, Progress::Granted { elapsed: 3 });
    // Nothing decided: only the first item may be decided; the others may still be accepted.
    let progress = [open, open, ns, ns];
    assert!(plan.may_decide(0, &progress));
    assert!(!plan.may_decide(1, &progress));
    assert_eq!(plan.waiting_for(3, &progress), vec![1, 2]);
    // The first granted: both branches may be decided, the last waits for both.
    let progress = [ok, ok, open, ns];
    assert!(plan.may_decide(1, &progress) && plan.may_decide(2, &progress));
    assert_eq!(plan.waiting_for(3, &progress), vec![2]);
}

#[test]
fn a_refused_item_blocks_its_dependants() {
    let plan = diamond(20, 30);
    let refused = Progress::Closed { elapsed: 8 };
    let progress = [refused, Progress::Open { elapsed: 2 }, Progress::NotStarted, Progress::NotStarted];
    assert!(!plan.may_decide(1, &progress));
    let p = plan.projection(&progress);
    assert_eq!(p.blocked, vec![1, 2]);
    assert_eq!(p.durations, vec![18, 5, 30, 7]);
    assert_eq!(p.critical.days, 18 + 30 + 7);
    assert!(!p.complete);
}

#[test]
fn projection_against_the_target() {
    let plan = diamond(60, 60);
    let granted = |d| Progress::Granted { elapsed: d };
    let p = plan.projection(&[granted(9), granted(30), granted(40), granted(5)]);
    assert_eq!((p.critical.days, p.sequential_days, p.target_days), (54, 137, TARGET_DAYS));
    assert!(p.meets_target && p.complete && p.blocked.is_empty());
    let late = plan.projection(&[granted(9), Progress::NotStarted, Progress::Open { elapsed: 100 }, granted(15)]);
    assert_eq!(late.critical.days, 124);
    assert!(!late.meets_target);
}

#[test]
fn default_plan_of_the_typical_project() {
    let c = Catalogue::builtin();
    let plan = default_plan(c, &[]).unwrap();
    assert_eq!(plan.items().len(), TYPICAL.len());
    let has = |a: &str, b: &str| plan.edges().contains(&Edge::new(a, b));
    // Within a stage from the table; 施工许可 does not also name stage 2.
    assert!(has("371323-GH-002", "371323-GH-001"));
    assert!(has("371323-GC-001", "371323-GC-013") && has("371323-GC-001", "371323-GC-003"));
    assert!(!has("371323-GC-001", "371323-GH-003"));
    // Across stages, only the previous stage's last items: 工程规划许可, not the design review.
    assert!(has("371323-GC-003", "371323-GH-003") && has("371323-GC-003", "371323-HP-002"));
    assert!(!has("371323-GC-003", "371323-GH-005"));
    assert!(has("371323-GH-005", "371323-GH-002") && !has("371323-GH-005", "371323-GH-001"));
    assert!(has("371323-GC-014", "371323-GC-001") && has("371323-GC-002", "371323-GC-014"));
    for e in plan.edges() {
        let stage = |code: &str| plan.items()[plan.index(code).unwrap()].stage;
        assert!(stage(&e.requires) <= stage(&e.item), "{e:?}");
    }
    // Statutory limits one after another exceed the target; along the critical path they come near it.
    let statutory: Vec<u32> = plan.items().iter().map(|i| i.statutory_limit.get()).collect();
    let cp = plan.critical_path(&statutory);
    assert_eq!(plan.sequential_days(), 212);
    assert!(cp.days < plan.sequential_days());
    assert_eq!(plan.items()[*cp.items.last().unwrap()].code.as_str(), "371323-GC-002");
}

#[test]
fn default_edges_skip_missing_stages_and_absent_table_entries() {
    let c = Catalogue::builtin();
    // Stage 1 and 3 only: 施工许可 without its drawings review depends on stage 1.
    let plan = default_plan(c, &["371323-GH-001", "371323-GC-001"]).unwrap();
    assert_eq!(plan.edges(), vec![Edge::new("371323-GC-001", "371323-GH-001")]);
    assert_eq!(default_plan(c, &["371323-LX-001"]).unwrap().edges(), vec![]);
}

#[test]
fn catalogue_items_outside_the_stages_or_unknown_are_refused() {
    let c = Catalogue::builtin();
    let m = Plan::from_catalogue(c, &["371323-GS-001", "371323-XX-001"], &[]).unwrap_err().message;
    assert!(m.contains("不属于工程建设项目审批阶段") && m.contains("“371323-XX-001”不在审批事项目录中"), "{m}");
    let plan =
        Plan::from_catalogue(c, &["371323-GH-001", "371323-GH-002"], &[Edge::new("371323-GH-002", "371323-GH-001")]);
    assert_eq!(plan.unwrap().edges().len(), 1);
}

#[test]
fn progress_from_the_case() {
    assert_eq!(progress_of("pre_review", false, false, false, 0), Progress::NotStarted);
    assert_eq!(progress_of("reviewing", true, false, false, 3), Progress::Open { elapsed: 3 });
    assert_eq!(progress_of("correction", true, false, false, 3), Progress::Open { elapsed: 3 });
    assert_eq!(progress_of("completed", true, true, false, 4), Progress::Granted { elapsed: 4 });
    assert_eq!(progress_of("post_check", true, true, false, 4), Progress::Granted { elapsed: 4 });
    assert_eq!(progress_of("completed", true, false, true, 4), Progress::Closed { elapsed: 4 });
    assert_eq!(progress_of("revoked", true, true, false, 4), Progress::Closed { elapsed: 4 });
    for st in ["not_accepted", "withdrawn", "terminated"] {
        assert_eq!(progress_of(st, false, false, false, 0), Progress::Closed { elapsed: 0 }, "{st}");
    }
}
