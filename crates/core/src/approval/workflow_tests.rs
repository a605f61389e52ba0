//! Tests of `workflow.rs` and `default_flow.rs` (kept beside them to keep each file short).

use super::*;
use crate::approval::catalogue::{ApprovalItem, Catalogue};
use crate::approval::default_flow::{action as a, state as s};
use proptest::prelude::*;

const STAFF: Actor = Actor::Role(Role::DepartmentStaff);
const LEADER: Actor = Actor::Role(Role::Leader);
const GRID: Actor = Actor::Role(Role::GridOfficer);

fn item(code: &str) -> &'static ApprovalItem {
    Catalogue::builtin().get(code).unwrap_or_else(|| panic!("{code}"))
}

/// 企业设立登记: 容缺 yes, 告知承诺 no. 建筑工程施工许可证核发: both. 特种设备使用登记: neither.
const SETUP: &str = "371323-GS-001";
const BUILD: &str = "371323-GC-001";
const BOILER: &str = "371323-GS-010";

fn walk(flow: &Workflow, steps: &[(&str, Actor)]) -> Result<String, String> {
    let mut at = flow.initial.clone();
    for (action, actor) in steps {
        at = flow.apply(&at, action, *actor).map_err(|e| e.to_string())?.code.clone();
    }
    Ok(at)
}

fn problems(flow: &Workflow) -> Vec<String> {
    flow.validate().err().map(|e| e.problems).unwrap_or_default()
}

/// A small valid flow: start → end.
fn tiny() -> Workflow {
    Workflow {
        code: "t".into(),
        name: "测试流程".into(),
        version: 1,
        initial: "start".into(),
        overall_sla: WorkingDays::ZERO,
        states: vec![state("start", false), state("end", true)],
        actions: vec![Action {
            code: "go".into(),
            name: "办理".into(),
            from: "start".into(),
            to: "end".into(),
            roles: vec![STAFF],
        }],
    }
}

fn state(code: &str, terminal: bool) -> State {
    State { code: code.into(), name: code.to_uppercase(), terminal, sla: None, clock: Clock::Stopped }
}

fn action(code: &str, from: &str, to: &str) -> Action {
    Action { code: code.into(), name: code.into(), from: from.into(), to: to.into(), roles: vec![STAFF] }
}

#[test]
fn default_flow_of_every_builtin_item_is_valid() {
    for it in Catalogue::builtin().items() {
        let flow = Workflow::default_for(it);
        assert_eq!(problems(&flow), Vec::<String>::new(), "{}", it.code);
        assert_eq!(flow.overall_sla, it.promised_limit);
        assert_eq!(flow.state(s::DEFICIENT).is_some(), it.deficiency_acceptance, "{}", it.code);
        assert_eq!(flow.actions.iter().any(|x| x.code == a::ACCEPT_DEFICIENT), it.deficiency_acceptance);
        assert_eq!(flow.actions.iter().any(|x| x.code == a::APPROVE_ON_COMMITMENT), it.commitment_approval);
        assert_eq!(flow.state(s::POST_CHECK).is_some(), it.commitment_approval);
    }
}

#[test]
fn the_default_path_with_a_correction() {
    let flow = Workflow::default_for(item(BOILER));
    let got = walk(
        &flow,
        &[
            (a::SUBMIT, Actor::Applicant),
            (a::ACCEPT, STAFF),
            (a::REQUEST_CORRECTION, STAFF),
            (a::SUBMIT_CORRECTION, GRID),
            (a::SUBMIT_FOR_DECISION, STAFF),
            (a::APPROVE, LEADER),
            (a::COMPLETE, STAFF),
            (a::FOLLOW_UP, GRID),
        ],
    );
    assert_eq!(got.as_deref(), Ok(s::FOLLOWED_UP));
    let clock = |code: &str| flow.state(code).map(|st| st.clock);
    assert_eq!(clock(s::DRAFT), Some(Clock::Stopped));
    assert_eq!(clock(s::PRE_REVIEW), Some(Clock::Stopped));
    assert_eq!(clock(s::REVIEWING), Some(Clock::Running));
    assert_eq!(clock(s::CORRECTION), Some(Clock::Paused));
    assert_eq!(flow.state(s::PRE_REVIEW).and_then(|st| st.sla), WorkingDays::new(5));
    assert!(flow.state(s::FOLLOWED_UP).is_some_and(|st| st.terminal));
}

#[test]
fn rongque_and_commitment_paths() {
    let flow = Workflow::default_for(item(BUILD));
    let deficient = [(a::SUBMIT, Actor::Applicant), (a::ACCEPT_DEFICIENT, STAFF)];
    assert_eq!(walk(&flow, &deficient).as_deref(), Ok(s::DEFICIENT));
    let overdue = [deficient[0], deficient[1], (a::TERMINATE, STAFF)];
    assert_eq!(walk(&flow, &overdue).as_deref(), Ok(s::TERMINATED));
    let committed = [
        deficient[0],
        deficient[1],
        (a::SUPPLY, Actor::Applicant),
        (a::APPROVE_ON_COMMITMENT, STAFF),
        (a::COMPLETE, STAFF),
    ];
    assert_eq!(walk(&flow, &committed).as_deref(), Ok(s::POST_CHECK));
    let mut revoked = committed.to_vec();
    revoked.push((a::REVOKE, LEADER));
    assert_eq!(walk(&flow, &revoked).as_deref(), Ok(s::REVOKED));

    // Neither path exists where the item allows neither.
    let plain = Workflow::default_for(item(BOILER));
    assert_eq!(walk(&plain, &deficient), Err("流程“特种设备使用登记办理流程”中没有动作“accept_deficient”".to_owned()));
}

#[test]
fn an_action_by_a_role_the_flow_does_not_allow_is_refused() {
    let flow = Workflow::default_for(item(SETUP));
    assert_eq!(
        flow.apply(s::PRE_REVIEW, a::ACCEPT, GRID).map_err(|e| e.to_string()),
        Err("网格员不能“受理”，该动作仅限：部门人员".to_owned())
    );
    assert_eq!(
        flow.apply(s::DRAFT, a::SUBMIT, Actor::Role(Role::EnterpriseUser)).map_err(|e| e.to_string()),
        Err("企业不能“提交”，该动作仅限：申请人、网格员".to_owned())
    );
    assert!(flow.apply(s::DECIDING, a::RETURN_FOR_REVIEW, STAFF).is_err());
    assert!(flow.apply(s::DECIDING, a::RETURN_FOR_REVIEW, LEADER).is_ok());
    assert_eq!(flow.available_actions(s::DECIDING, STAFF).len(), 2);
    assert_eq!(flow.available_actions(s::DECIDING, Actor::Applicant).len(), 0);
}

#[test]
fn actions_outside_their_state_and_unknown_states_are_refused() {
    let flow = Workflow::default_for(item(SETUP));
    assert_eq!(
        flow.apply(s::PRE_REVIEW, a::APPROVE, STAFF).map_err(|e| e.to_string()),
        Err("当前状态“预审”下不能“准予”，可执行的动作：“受理”、“不予受理”、“退回修改”、“撤回”、“容缺受理”".to_owned())
    );
    assert_eq!(
        flow.apply(s::WITHDRAWN, a::SUBMIT, Actor::Applicant).map_err(|e| e.to_string()),
        Err("办件已处于终止状态“已撤回”，不能再“提交”".to_owned())
    );
    assert_eq!(
        flow.apply("archived", a::SUBMIT, Actor::Applicant).map_err(|e| e.to_string()),
        Err("状态“archived”不属于流程“企业设立登记办理流程”".to_owned())
    );
    assert!(flow.apply(s::DRAFT, "fly", Actor::Applicant).is_err_and(|e| e.to_string().ends_with("中没有动作“fly”")));
}

#[test]
fn validate_refuses_unknown_states_and_a_missing_initial_state() {
    let mut flow = tiny();
    flow.actions.push(action("jump", "start", "nowhere"));
    assert_eq!(problems(&flow), vec!["动作“jump”的目标状态“nowhere”未定义".to_owned()]);
    let mut flow = tiny();
    flow.initial = " ".into();
    assert_eq!(problems(&flow), vec!["未设置初始状态".to_owned()]);
    flow.initial = "begin".into();
    assert_eq!(problems(&flow), vec!["初始状态“begin”未定义".to_owned()]);
}

#[test]
fn validate_names_unreachable_and_dead_end_states() {
    let mut flow = tiny();
    flow.states.push(state("orphan", false));
    flow.states.push(state("limbo", false));
    flow.actions.push(action("go", "orphan", "end"));
    flow.actions.push(action("stuck", "start", "limbo"));
    assert_eq!(
        problems(&flow),
        vec![
            "以下状态从初始状态无法到达：“ORPHAN”（orphan）".to_owned(),
            "以下非终止状态没有后续动作（办件会停在这里）：“LIMBO”（limbo）".to_owned(),
        ]
    );
}

#[test]
fn validate_refuses_cycles_with_no_way_out() {
    let mut flow = tiny();
    flow.states.extend([state("a", false), state("b", false)]);
    flow.actions.extend([action("in", "start", "a"), action("ab", "a", "b"), action("ba", "b", "a")]);
    assert_eq!(
        problems(&flow),
        vec!["以下状态无法到达任何终止状态（办件会在其间循环）：“A”（a）、“B”（b）".to_owned()]
    );
    let mut flow = tiny();
    flow.states[1].terminal = false;
    assert_eq!(
        problems(&flow),
        vec!["流程没有终止状态".to_owned(), "以下非终止状态没有后续动作（办件会停在这里）：“END”（end）".to_owned()]
    );
}

#[test]
fn validate_refuses_terminal_exits_duplicates_and_roleless_actions() {
    let mut flow = tiny();
    flow.actions.push(action("reopen", "end", "start"));
    assert_eq!(problems(&flow), vec!["终止状态“END”（end）不能有后续动作：“reopen”".to_owned()]);
    let mut flow = tiny();
    flow.states.push(state("start", false));
    flow.actions.push(action("go", "start", "start"));
    assert_eq!(problems(&flow), vec!["状态编码“start”重复".to_owned(), "状态“start”下的动作“go”重复".to_owned()]);
    let mut flow = tiny();
    flow.actions[0].roles.clear();
    assert_eq!(problems(&flow), vec!["动作“办理”未指定可执行的角色".to_owned()]);
    flow.actions[0].roles = vec![Actor::Role(Role::SystemAdmin), STAFF];
    assert_eq!(problems(&flow), vec!["动作“办理”不能由系统管理员执行：管理员不办理业务（三权分立）".to_owned()]);
}

#[test]
fn validate_checks_names_clocks_and_state_limits() {
    let mut flow = tiny();
    flow.name = String::new();
    flow.version = 0;
    flow.states[1].clock = Clock::Running;
    flow.states[0].clock = Clock::Running;
    flow.states[0].sla = WorkingDays::new(3);
    assert_eq!(
        problems(&flow),
        vec![
            "请填写流程名称".to_owned(),
            "流程版本号从1开始".to_owned(),
            "状态“START”（start）的时限（3个工作日）超过流程总时限（0个工作日）".to_owned(),
            "终止状态“END”（end）不能计时".to_owned(),
        ]
    );
    let mut flow = tiny();
    flow.states.clear();
    flow.actions.clear();
    assert_eq!(problems(&flow), vec!["流程至少要有一个状态".to_owned(), "初始状态“start”未定义".to_owned()]);
}

#[test]
fn workflows_round_trip_through_json() {
    let flow = Workflow::default_for(item(BUILD));
    let json = serde_json::to_string(&flow).unwrap_or_else(|e| panic!("{e}"));
    assert!(json.contains(r#""roles":["applicant","grid_officer"]"#), "{json}");
    assert_eq!(Workflow::parse_json(&json), Ok(flow));
    let msg = |raw: &str| Workflow::parse_json(raw).map(|f| f.code).map_err(|e| e.to_string());
    let bad_role = json.replacen("grid_officer", "janitor", 1);
    assert!(msg(&bad_role).is_err_and(|m| m.ends_with("角色“janitor”无法识别")), "{:?}", msg(&bad_role));
    let invalid = serde_json::to_string(&{
        let mut t = tiny();
        t.actions.clear();
        t
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(msg(&invalid).is_err_and(|m| m.contains("无法到达")));
    assert_eq!(Actor::parse("leader").map(Actor::label), Ok("领导"));
}

/// Every actor a walk may try.
fn actors() -> Vec<Actor> {
    std::iter::once(Actor::Applicant).chain(Role::ALL.into_iter().map(Actor::Role)).collect()
}

proptest! {
    #[test]
    fn random_walks_stay_on_declared_states(
        steps in prop::collection::vec((any::<u8>(), any::<u8>(), any::<bool>()), 0..40)
    ) {
        let actors = actors();
        for it in Catalogue::builtin().items() {
            let flow = Workflow::default_for(it);
            for st in flow.states.iter().filter(|st| st.terminal) {
                prop_assert_eq!(flow.actions_from(&st.code).count(), 0);
            }
            let mut at = flow.initial.clone();
            for (pick, who, mostly_legal) in &steps {
                let here: Vec<&Action> = flow.actions_from(&at).collect();
                let (code, actor) = match here.get(usize::from(*pick) % here.len().max(1)) {
                    Some(x) if *mostly_legal && !x.roles.is_empty() => {
                        (x.code.clone(), x.roles[usize::from(*who) % x.roles.len()])
                    }
                    _ => {
                        let any = &flow.actions[usize::from(*pick) % flow.actions.len()];
                        (any.code.clone(), actors[usize::from(*who) % actors.len()])
                    }
                };
                let allowed = here.iter().any(|x| x.code == code && x.roles.contains(&actor));
                match flow.apply(&at, &code, actor) {
                    Ok(next) => {
                        prop_assert!(allowed);
                        prop_assert!(flow.state(&next.code).is_some());
                        at = next.code.clone();
                    }
                    Err(_) => prop_assert!(!allowed),
                }
                if flow.state(&at).is_some_and(|st| st.terminal) {
                    prop_assert!(flow.apply(&at, &code, actor).is_err());
                }
            }
        }
    }
}
