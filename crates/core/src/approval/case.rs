//! One application (办件) on its workflow: who a user acts as, what an action does to the item's
//! clock, and the checks of the materials when the case is filed, accepted and supplemented.
//!
//! Rules:
//! - An enterprise user acts on its own enterprise's cases as the applicant (申请人). Staff and grid
//!   officers act in their role, and also as the applicant on a case they filed on the enterprise's
//!   behalf (帮代办); the role is tried first.
//! - The clock starts the first time the case enters a state whose clock runs (受理 or 容缺受理); the
//!   deadline is then the calendar's deadline from that instant for the item's promised limit, so a
//!   case accepted after office hours counts from the next working day.
//! - Entering a paused state (补正) pauses the clock; leaving it resumes the clock and pushes the
//!   deadline back by the working days the pause removed (`pause.rs`).
//! - A filing and a submission must pass [`check_acceptance`]: a key material is never missing, and
//!   non-key ones only where the item allows 容缺受理. 受理 needs every material; 容缺受理 needs some
//!   non-key one missing; 补齐材料 must leave nothing missing.
//! - Negative and returning actions (不予受理, 不予, 要求补正, 退回, 终止, 撤销) need a reason.

use super::acceptance::{Acceptance, check_acceptance};
use super::calendar::Calendar;
use super::catalogue::ApprovalItem;
use super::default_flow::action;
use super::pause::Pause;
use super::workflow::{Action, Actor, Clock, State, Workflow};
use crate::access::Role;

/// Longest comment on an action, in characters.
pub const COMMENT_MAX_CHARS: usize = 500;

/// The case number: `SP` + year + six-digit sequence of that year, e.g. `SP2026-000123`.
pub fn case_no(year: i32, seq: i64) -> String {
    format!("SP{year}-{seq:06}")
}

/// Who `role` may act as on a case; `applicant` says the user is the case's enterprise's own user or
/// filed the case for it. In the order tried.
pub fn actors_of(role: Role, applicant: bool) -> Vec<Actor> {
    match (role, applicant) {
        (Role::EnterpriseUser, true) => vec![Actor::Applicant],
        (_, true) => vec![Actor::Role(role), Actor::Applicant],
        (_, false) => vec![Actor::Role(role)],
    }
}

/// The actor to take `action` as in `state`: the first of `actors` the flow allows it to, or the
/// first of them, so that [`Workflow::apply`] explains why it may not.
pub fn acting_as(flow: &Workflow, state: &str, action: &str, actors: &[Actor]) -> Option<Actor> {
    let allowed = |a: &Actor| flow.actions_from(state).any(|x| x.code == action && x.roles.contains(a));
    actors.iter().copied().find(allowed).or_else(|| actors.first().copied())
}

/// The actions any of `actors` may take in `state` (the buttons of the case page), each once.
pub fn available<'a>(flow: &'a Workflow, state: &str, actors: &[Actor]) -> Vec<&'a Action> {
    let mut out: Vec<&Action> = Vec::new();
    for a in flow.actions_from(state).filter(|a| actors.iter().any(|x| a.roles.contains(x))) {
        if !out.iter().any(|o| o.code == a.code) {
            out.push(a);
        }
    }
    out
}

/// Whether the action exists in `state` but `actor` may not take it: a refusal of the role (403)
/// rather than of the case's state (422).
pub fn refused_for_role(flow: &Workflow, state: &str, action: &str, actor: Actor) -> bool {
    flow.actions_from(state).any(|a| a.code == action && !a.roles.contains(&actor))
}

/// The actors who may act on a case in `state`, for the inbox: codes, deduplicated, in flow order.
pub fn actors_in(flow: &Workflow, state: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in flow.actions_from(state).flat_map(|a| a.roles.iter()) {
        if !out.contains(&a.code()) {
            out.push(a.code());
        }
    }
    out
}

/// What moving from `from` to `to` does to the clock; `started` says it has started before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockEffect {
    /// Acceptance: record the receipt instant and compute the deadline.
    pub start: bool,
    /// 补正 begins: open a pause.
    pub pause: bool,
    /// 补正 ends: close the pause and move the deadline.
    pub resume: bool,
}

pub fn clock_effect(from: &State, to: &State, started: bool) -> ClockEffect {
    let start = !started && to.clock == Clock::Running;
    let running = started || start;
    ClockEffect {
        start,
        pause: running && from.clock != Clock::Paused && to.clock == Clock::Paused,
        resume: started && from.clock == Clock::Paused && to.clock != Clock::Paused,
    }
}

/// Working days left of `limit` at `now` (negative once overdue), pauses not counted.
pub fn days_left(cal: &Calendar, received_ms: i64, now_ms: i64, limit: u32, pauses: &[Pause]) -> i64 {
    i64::from(limit) - i64::from(cal.elapsed_working_days_paused(received_ms, now_ms, pauses))
}

/// Whether `action` needs a reason written by the one who takes it.
pub fn needs_comment(action_code: &str) -> bool {
    use action as a;
    [
        a::NOT_ACCEPT,
        a::REFUSE,
        a::REQUEST_CORRECTION,
        a::RETURN_FOR_AMENDMENT,
        a::RETURN_FOR_REVIEW,
        a::TERMINATE,
        a::REVOKE,
    ]
    .contains(&action_code)
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join("、")
}

/// Checks the materials for a filing (and a resubmission): refused when the case could never be
/// accepted with them. Gives the non-key materials still missing (容缺), empty when complete.
pub fn check_filing(item: &ApprovalItem, materials: &[String]) -> Result<Vec<String>, String> {
    match check_acceptance(item, materials).map_err(|e| e.message)? {
        Acceptance::Complete => Ok(Vec::new()),
        Acceptance::Deficient { missing } => Ok(missing),
    }
}

/// Checks the materials before `action_code` is taken. Gives the non-key materials missing once it
/// is taken, or `None` when the action leaves them as they were. `materials` is what the case holds,
/// with anything handed in with this action added.
pub fn check_action(
    item: &ApprovalItem,
    action_code: &str,
    materials: &[String],
) -> Result<Option<Vec<String>>, String> {
    use action as a;
    let checked = || check_acceptance(item, materials).map_err(|e| e.message);
    let missing = match action_code {
        a::SUBMIT | a::SUBMIT_CORRECTION => check_filing(item, materials)?,
        a::ACCEPT => match checked()? {
            Acceptance::Complete => Vec::new(),
            Acceptance::Deficient { missing } => {
                return Err(format!(
                    "材料不齐，缺少{}，不能直接受理；本事项允许容缺受理，可选择“容缺受理”并告知申请人补齐期限",
                    quoted(&missing)
                ));
            }
        },
        a::ACCEPT_DEFICIENT => match checked()? {
            Acceptance::Complete => return Err("材料已齐全，请直接受理，无需容缺受理".into()),
            Acceptance::Deficient { missing } => missing,
        },
        a::SUPPLY => match checked()? {
            Acceptance::Complete => Vec::new(),
            Acceptance::Deficient { missing } => {
                return Err(format!("仍缺少材料{}，请补齐后再提交", quoted(&missing)));
            }
        },
        _ => return Ok(None),
    };
    Ok(Some(missing))
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::approval::Catalogue;
    use crate::approval::date::Date;
    use crate::approval::default_flow::state;
    use crate::approval::working_days::WorkingDays;

    fn item(code: &str) -> ApprovalItem {
        Catalogue::builtin().get(code).cloned().unwrap_or_else(|| panic!("{code}"))
    }

    /// 企业设立登记 allows 容缺; 特种设备使用登记 does not.
    const SETUP: &str = "371323-GS-001";
    const NO_RQ: &str = "371323-GS-010";

    fn handed_in(it: &ApprovalItem, key_only: bool) -> Vec<String> {
        it.materials.iter().filter(|m| !m.fetchable && (m.key || !key_only)).map(|m| m.name.clone()).collect()
    }

    fn st<'a>(flow: &'a Workflow, code: &str) -> &'a State {
        flow.state(code).unwrap_or_else(|| panic!("{code}"))
    }

    #[test]
    fn numbers_cases_by_year() {
        assert_eq!(case_no(2026, 123), "SP2026-000123");
        assert_eq!(case_no(2027, 1_234_567), "SP2027-1234567");
    }

    #[test]
    fn enterprise_acts_as_applicant_and_staff_in_role_first() {
        let flow = Workflow::default_for(&item(SETUP));
        let ent = actors_of(Role::EnterpriseUser, true);
        assert_eq!(acting_as(&flow, state::DRAFT, action::SUBMIT, &ent), Some(Actor::Applicant));
        // Staff who filed for the enterprise (帮代办) submit as the applicant, accept as staff.
        let agency = actors_of(Role::DepartmentStaff, true);
        assert_eq!(acting_as(&flow, state::DRAFT, action::SUBMIT, &agency), Some(Actor::Applicant));
        let staff = Actor::Role(Role::DepartmentStaff);
        assert_eq!(acting_as(&flow, state::PRE_REVIEW, action::ACCEPT, &agency), Some(staff));
        let codes = |actors: &[Actor]| {
            available(&flow, state::PRE_REVIEW, actors).iter().map(|a| a.code.as_str()).collect::<Vec<_>>()
        };
        assert_eq!(codes(&agency), ["accept", "not_accept", "return_for_amendment", "withdraw", "accept_deficient"]);
        assert_eq!(codes(&ent), ["withdraw"]);
        assert!(codes(&actors_of(Role::Leader, false)).is_empty());
        // Not allowed at all: the first candidate, so that apply explains.
        assert_eq!(acting_as(&flow, state::PRE_REVIEW, action::ACCEPT, &ent), Some(Actor::Applicant));
        assert!(refused_for_role(&flow, state::PRE_REVIEW, action::ACCEPT, Actor::Applicant));
        assert!(!refused_for_role(&flow, state::PRE_REVIEW, action::SUPPLY, Actor::Applicant));
        let err = flow.apply(state::PRE_REVIEW, action::ACCEPT, Actor::Applicant).map_err(|e| e.to_string());
        assert_eq!(err, Err("申请人不能“受理”，该动作仅限：部门人员".to_owned()));
    }

    #[test]
    fn inbox_actors_of_a_state() {
        let flow = Workflow::default_for(&item(SETUP));
        assert_eq!(actors_in(&flow, state::DRAFT), ["applicant", "grid_officer"]);
        assert_eq!(actors_in(&flow, state::PRE_REVIEW), ["department_staff", "applicant", "grid_officer"]);
        assert_eq!(actors_in(&flow, state::DECIDING), ["department_staff", "leader"]);
        assert!(actors_in(&flow, state::FOLLOWED_UP).is_empty());
    }

    #[test]
    fn the_clock_starts_at_acceptance_and_pauses_for_correction() {
        let flow = Workflow::default_for(&item(SETUP));
        let s = |c| st(&flow, c);
        let accept = clock_effect(s(state::PRE_REVIEW), s(state::REVIEWING), false);
        assert_eq!(accept, ClockEffect { start: true, pause: false, resume: false });
        let deficient = clock_effect(s(state::PRE_REVIEW), s(state::DEFICIENT), false);
        assert!(deficient.start);
        assert_eq!(clock_effect(s(state::DRAFT), s(state::PRE_REVIEW), false), ClockEffect::default());
        let pause = clock_effect(s(state::REVIEWING), s(state::CORRECTION), true);
        assert_eq!(pause, ClockEffect { start: false, pause: true, resume: false });
        let resume = clock_effect(s(state::CORRECTION), s(state::REVIEWING), true);
        assert_eq!(resume, ClockEffect { start: false, pause: false, resume: true });
        // Withdrawn during 补正: the pause ends too.
        assert!(clock_effect(s(state::CORRECTION), s(state::WITHDRAWN), true).resume);
        assert_eq!(clock_effect(s(state::REVIEWING), s(state::DECIDING), true), ClockEffect::default());
    }

    #[test]
    fn days_left_count_down_without_pauses() {
        let cal = Calendar::statutory();
        let at = |d: &str, h: i64| Date::parse(d).map(|d| d.start_ms() + h * 3_600_000).unwrap_or_default();
        // Accepted Monday 2026-03-02 10:00; 5 days; Friday 03-06 has used 4.
        assert_eq!(days_left(&cal, at("2026-03-02", 10), at("2026-03-06", 9), 5, &[]), 1);
        assert_eq!(days_left(&cal, at("2026-03-02", 10), at("2026-03-10", 9), 5, &[]), -1);
        let p = Pause::new(at("2026-03-03", 10), Some(at("2026-03-05", 10))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(days_left(&cal, at("2026-03-02", 10), at("2026-03-06", 9), 5, &[p]), 3);
        let five = WorkingDays::new(5).unwrap_or_default();
        assert_eq!(cal.deadline(at("2026-03-02", 10), five).to_string(), "2026-03-09");
    }

    #[test]
    fn reasons_are_required_for_negative_actions() {
        assert!(needs_comment(action::REFUSE) && needs_comment(action::REQUEST_CORRECTION));
        assert!(!needs_comment(action::ACCEPT) && !needs_comment(action::SUBMIT));
    }

    fn refused<T: std::fmt::Debug>(r: Result<T, String>) -> String {
        r.err().unwrap_or_else(|| panic!("expected a refusal"))
    }

    #[test]
    fn filing_refuses_a_missing_key_material() {
        let it = item(SETUP);
        assert_eq!(check_filing(&it, &handed_in(&it, false)), Ok(Vec::new()));
        let keys = handed_in(&it, true);
        assert_eq!(check_filing(&it, &keys), Ok(vec!["授权委托书及受托人身份证件".to_owned()]));
        let err = refused(check_filing(&it, &keys[1..]));
        assert!(err.contains("缺少关键材料") && err.contains(&keys[0]), "{err}");
        // Without 容缺, a missing non-key material refuses the filing too.
        let strict = item(NO_RQ);
        assert!(refused(check_filing(&strict, &handed_in(&strict, true))).contains("不适用容缺受理"));
    }

    #[test]
    fn acceptance_and_supply_check_the_materials() {
        let it = item(SETUP);
        let all = handed_in(&it, false);
        let keys = handed_in(&it, true);
        assert_eq!(check_action(&it, action::ACCEPT, &all), Ok(Some(Vec::new())));
        assert!(refused(check_action(&it, action::ACCEPT, &keys)).contains("容缺受理"));
        assert_eq!(check_action(&it, action::ACCEPT_DEFICIENT, &keys).map(|m| m.map(|m| m.len())), Ok(Some(1)));
        assert!(refused(check_action(&it, action::ACCEPT_DEFICIENT, &all)).contains("直接受理"));
        assert!(refused(check_action(&it, action::SUPPLY, &keys)).contains("仍缺少材料"));
        assert_eq!(check_action(&it, action::SUPPLY, &all), Ok(Some(Vec::new())));
        assert_eq!(check_action(&it, action::APPROVE, &keys), Ok(None));
    }
}
