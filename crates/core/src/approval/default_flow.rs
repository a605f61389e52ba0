//! The default flow of an approval item:
//!
//! 草稿 →提交→ 预审 →受理 / 容缺受理 / 不予受理→ 审查 (⇄ 补正, clock paused) →提请决定→ 决定
//! →准予 / 不予→ 办结 →回访→ 已回访.
//!
//! - 预审 (提前审查) comes before formal acceptance, so the item's clock is not yet running; its own
//!   limit is 5 working days (《行政许可法》第三十二条: 五日内一次告知需要补正的全部内容).
//! - 容缺受理 (only if the item allows it) accepts into 容缺待补: the clock runs, the missing materials
//!   are supplied (→ 审查) or, when the deadline passes, the case is terminated (终止办理).
//! - 补正 during review pauses the clock (补正时间不计入办理时限).
//! - 告知承诺 (only if the item allows it, 国办发〔2020〕42号): from 审查 the office approves on the
//!   written commitment; after 办结 the case waits in 承诺核查 until the post-check passes or the
//!   approval is revoked for a false commitment.
//! - After 准予 the certificate is issued within 10 days (《行政许可法》第四十四条).
//! - Staff (部门人员) act for the office, leadership (领导) may decide; a grid officer (网格员) may file
//!   and supplement on the enterprise's behalf (帮代办) and make the follow-up visit.

use super::catalogue::ApprovalItem;
use super::workflow::{Action, Actor, Clock, State, Workflow};
use super::working_days::WorkingDays;
use crate::access::Role;

/// State codes of the default flow.
pub mod state {
    pub const DRAFT: &str = "draft";
    pub const PRE_REVIEW: &str = "pre_review";
    pub const DEFICIENT: &str = "deficient";
    pub const REVIEWING: &str = "reviewing";
    pub const CORRECTION: &str = "correction";
    pub const DECIDING: &str = "deciding";
    pub const APPROVED: &str = "approved";
    pub const REFUSED: &str = "refused";
    pub const COMMITMENT_APPROVED: &str = "commitment_approved";
    pub const POST_CHECK: &str = "post_check";
    pub const COMPLETED: &str = "completed";
    pub const FOLLOWED_UP: &str = "followed_up";
    pub const NOT_ACCEPTED: &str = "not_accepted";
    pub const TERMINATED: &str = "terminated";
    pub const WITHDRAWN: &str = "withdrawn";
    pub const REVOKED: &str = "revoked";
}

/// Action codes of the default flow.
pub mod action {
    pub const SUBMIT: &str = "submit";
    pub const WITHDRAW: &str = "withdraw";
    pub const RETURN_FOR_AMENDMENT: &str = "return_for_amendment";
    pub const ACCEPT: &str = "accept";
    pub const ACCEPT_DEFICIENT: &str = "accept_deficient";
    pub const NOT_ACCEPT: &str = "not_accept";
    pub const SUPPLY: &str = "supply";
    pub const TERMINATE: &str = "terminate";
    pub const REQUEST_CORRECTION: &str = "request_correction";
    pub const SUBMIT_CORRECTION: &str = "submit_correction";
    pub const SUBMIT_FOR_DECISION: &str = "submit_for_decision";
    pub const RETURN_FOR_REVIEW: &str = "return_for_review";
    pub const APPROVE: &str = "approve";
    pub const REFUSE: &str = "refuse";
    pub const APPROVE_ON_COMMITMENT: &str = "approve_on_commitment";
    pub const COMPLETE: &str = "complete";
    pub const VERIFY: &str = "verify";
    pub const REVOKE: &str = "revoke";
    pub const FOLLOW_UP: &str = "follow_up";
}

const APPLICANT: Actor = Actor::Applicant;
const STAFF: Actor = Actor::Role(Role::DepartmentStaff);
const LEADER: Actor = Actor::Role(Role::Leader);
const GRID: Actor = Actor::Role(Role::GridOfficer);

/// 预审 limit (《行政许可法》第三十二条).
const PRE_REVIEW_DAYS: u32 = 5;
/// Issuing the certificate after 准予 (《行政许可法》第四十四条).
const ISSUE_DAYS: u32 = 10;

/// Both constants are far below [`WorkingDays::MAX`], so the fallback is never taken.
fn days(n: u32) -> Option<WorkingDays> {
    Some(WorkingDays::new(n).unwrap_or(WorkingDays::MAX))
}

fn st(code: &str, name: &str, clock: Clock, sla: Option<WorkingDays>) -> State {
    State { code: code.to_owned(), name: name.to_owned(), terminal: false, sla, clock }
}

fn end(code: &str, name: &str) -> State {
    State { code: code.to_owned(), name: name.to_owned(), terminal: true, sla: None, clock: Clock::Stopped }
}

fn act(code: &str, name: &str, from: &str, to: &str, roles: &[Actor]) -> Action {
    Action {
        code: code.to_owned(),
        name: name.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
        roles: roles.to_vec(),
    }
}

impl Workflow {
    /// The default flow of `item` (module docs), with 容缺受理 and 告知承诺 only where the item allows
    /// them; the overall SLA is the item's promised limit.
    pub fn default_for(item: &ApprovalItem) -> Workflow {
        use action as a;
        use state as s;
        let (rq, cn) = (item.deficiency_acceptance, item.commitment_approval);
        let mut states = vec![
            st(s::DRAFT, "草稿", Clock::Stopped, None),
            st(s::PRE_REVIEW, "预审", Clock::Stopped, days(PRE_REVIEW_DAYS)),
            st(s::REVIEWING, "审查", Clock::Running, None),
            st(s::CORRECTION, "补正", Clock::Paused, None),
            st(s::DECIDING, "决定", Clock::Running, None),
            st(s::APPROVED, "准予", Clock::Stopped, days(ISSUE_DAYS)),
            st(s::REFUSED, "不予", Clock::Stopped, None),
            st(s::COMPLETED, "办结", Clock::Stopped, None),
            end(s::FOLLOWED_UP, "已回访"),
            end(s::NOT_ACCEPTED, "不予受理"),
            end(s::TERMINATED, "终止办理"),
            end(s::WITHDRAWN, "已撤回"),
        ];
        let applicant = [APPLICANT, GRID];
        let decide = [STAFF, LEADER];
        let mut actions = vec![
            act(a::SUBMIT, "提交", s::DRAFT, s::PRE_REVIEW, &applicant),
            act(a::WITHDRAW, "撤回", s::DRAFT, s::WITHDRAWN, &applicant),
            act(a::ACCEPT, "受理", s::PRE_REVIEW, s::REVIEWING, &[STAFF]),
            act(a::NOT_ACCEPT, "不予受理", s::PRE_REVIEW, s::NOT_ACCEPTED, &[STAFF]),
            act(a::RETURN_FOR_AMENDMENT, "退回修改", s::PRE_REVIEW, s::DRAFT, &[STAFF]),
            act(a::WITHDRAW, "撤回", s::PRE_REVIEW, s::WITHDRAWN, &applicant),
            act(a::REQUEST_CORRECTION, "要求补正", s::REVIEWING, s::CORRECTION, &[STAFF]),
            act(a::SUBMIT_FOR_DECISION, "提请决定", s::REVIEWING, s::DECIDING, &[STAFF]),
            act(a::WITHDRAW, "撤回", s::REVIEWING, s::WITHDRAWN, &applicant),
            act(a::SUBMIT_CORRECTION, "提交补正", s::CORRECTION, s::REVIEWING, &applicant),
            act(a::TERMINATE, "终止办理", s::CORRECTION, s::TERMINATED, &[STAFF]),
            act(a::WITHDRAW, "撤回", s::CORRECTION, s::WITHDRAWN, &applicant),
            act(a::APPROVE, "准予", s::DECIDING, s::APPROVED, &decide),
            act(a::REFUSE, "不予", s::DECIDING, s::REFUSED, &decide),
            act(a::RETURN_FOR_REVIEW, "退回审查", s::DECIDING, s::REVIEWING, &[LEADER]),
            act(a::COMPLETE, "办结", s::APPROVED, s::COMPLETED, &[STAFF]),
            act(a::COMPLETE, "办结", s::REFUSED, s::COMPLETED, &[STAFF]),
            act(a::FOLLOW_UP, "回访", s::COMPLETED, s::FOLLOWED_UP, &[STAFF, GRID]),
        ];
        if rq {
            states.push(st(s::DEFICIENT, "容缺待补", Clock::Running, None));
            actions.extend([
                act(a::ACCEPT_DEFICIENT, "容缺受理", s::PRE_REVIEW, s::DEFICIENT, &[STAFF]),
                act(a::SUPPLY, "补齐材料", s::DEFICIENT, s::REVIEWING, &applicant),
                act(a::TERMINATE, "终止办理", s::DEFICIENT, s::TERMINATED, &[STAFF]),
                act(a::WITHDRAW, "撤回", s::DEFICIENT, s::WITHDRAWN, &applicant),
            ]);
        }
        if cn {
            states.extend([
                st(s::COMMITMENT_APPROVED, "准予（告知承诺）", Clock::Stopped, days(ISSUE_DAYS)),
                st(s::POST_CHECK, "承诺核查", Clock::Stopped, None),
                end(s::REVOKED, "已撤销"),
            ]);
            actions.extend([
                act(a::APPROVE_ON_COMMITMENT, "告知承诺准予", s::REVIEWING, s::COMMITMENT_APPROVED, &decide),
                act(a::COMPLETE, "办结", s::COMMITMENT_APPROVED, s::POST_CHECK, &[STAFF]),
                act(a::VERIFY, "核查通过", s::POST_CHECK, s::COMPLETED, &[STAFF]),
                act(a::REVOKE, "承诺不实撤销", s::POST_CHECK, s::REVOKED, &decide),
            ]);
        }
        Workflow {
            code: item.code.to_string(),
            name: format!("{}办理流程", item.name.trim()),
            version: 1,
            initial: s::DRAFT.to_owned(),
            overall_sla: item.promised_limit,
            states,
            actions,
        }
    }
}
