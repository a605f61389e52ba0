//! 告知承诺制 — approval on the applicant's written commitment (国办发〔2020〕42号; reference
//! "告知承诺制"): the office states the conditions and the liability for a false commitment in writing,
//! the applicant commits in writing, and the office decides without requiring the proof. The decision
//! schedules a post-approval check (核查); a false commitment found by it revokes the decision, and the
//! revocation goes on the enterprise's file.
//!
//! Rules:
//! - Only items that allow it ([`ApprovalItem::commitment_approval`]). The applicant writes the
//!   commitment before the decision (草稿 through 审查, 容缺待补 and 补正 included) and may replace
//!   it until then.
//! - 告知承诺准予 needs the commitment on file. It schedules the check, due the policy's working days
//!   after the decision on the working-day calendar ([`check_due`]; the reference sets no period, this
//!   zone's default is [`super::aftercare::DEFAULT_POST_CHECK_DAYS`]).
//! - Staff record the check's result once, while the case is in 承诺核查: passed (→ 核查通过 → 办结),
//!   or failed with its findings (→ 承诺不实撤销 → 已撤销). The flow's 核查通过 and 撤销 are taken
//!   only with that result ([`guard_flow_action`]): revocation only after a failed check.
//! - A check is overdue from the day after its due date while no result is recorded.

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::catalogue::ApprovalItem;
use super::date::Date;
use super::default_flow::{action, state};
use super::working_days::WorkingDays;

/// Longest commitment text, in characters.
pub const COMMITMENT_MAX_CHARS: usize = 2000;
/// Longest findings of a check, in characters.
pub const FINDINGS_MAX_CHARS: usize = 1000;

/// States in which the applicant may write (or replace) the commitment: before the decision.
pub const COMMITTABLE: [&str; 5] =
    [state::DRAFT, state::PRE_REVIEW, state::DEFICIENT, state::REVIEWING, state::CORRECTION];

/// How the check was made (reference: on paper, online, on site or by public notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckMethod {
    Paper,
    Online,
    OnSite,
    PublicNotice,
}

impl CheckMethod {
    pub const ALL: [CheckMethod; 4] =
        [CheckMethod::Paper, CheckMethod::Online, CheckMethod::OnSite, CheckMethod::PublicNotice];

    pub fn code(self) -> &'static str {
        match self {
            CheckMethod::Paper => "paper",
            CheckMethod::Online => "online",
            CheckMethod::OnSite => "on_site",
            CheckMethod::PublicNotice => "public_notice",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckMethod::Paper => "书面核查",
            CheckMethod::Online => "网上核查",
            CheckMethod::OnSite => "现场核查",
            CheckMethod::PublicNotice => "公示核查",
        }
    }

    pub fn parse(code: &str) -> Option<CheckMethod> {
        CheckMethod::ALL.into_iter().find(|m| m.code() == code.trim())
    }
}

/// The result of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// The commitment was true.
    Passed,
    /// The commitment was false: the decision is revoked.
    Failed,
}

impl CheckOutcome {
    pub fn code(self) -> &'static str {
        match self {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckOutcome::Passed => "核查通过",
            CheckOutcome::Failed => "核查不通过（承诺不实）",
        }
    }

    pub fn parse(code: &str) -> Option<CheckOutcome> {
        [CheckOutcome::Passed, CheckOutcome::Failed].into_iter().find(|o| o.code() == code.trim())
    }

    /// The flow action the result takes.
    pub fn flow_action(self) -> &'static str {
        match self {
            CheckOutcome::Passed => action::VERIFY,
            CheckOutcome::Failed => action::REVOKE,
        }
    }
}

/// A check's result as recorded by staff, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub outcome: CheckOutcome,
    pub method: CheckMethod,
    /// What the check found; required when it failed (the reason of the revocation).
    pub findings: String,
}

impl CheckResult {
    /// Parses the form or API fields: `result` (passed / failed), `method`, `findings`.
    pub fn parse(result: &str, method: &str, findings: &str) -> Result<CheckResult, String> {
        let outcome = CheckOutcome::parse(result).ok_or("请选择核查结果：核查通过或核查不通过")?;
        let method = CheckMethod::parse(method).ok_or("请选择核查方式：书面、网上、现场或公示核查")?;
        let findings = findings.trim();
        if findings.chars().count() > FINDINGS_MAX_CHARS {
            return Err(format!("核查发现的问题不能超过{FINDINGS_MAX_CHARS}个字"));
        }
        if outcome == CheckOutcome::Failed && findings.is_empty() {
            return Err("核查不通过时请写明发现的问题（承诺不实之处），它是撤销决定的理由".into());
        }
        Ok(CheckResult { outcome, method, findings: findings.to_owned() })
    }

    /// The comment of the flow action the result takes.
    pub fn comment(&self) -> String {
        match (self.outcome, self.findings.is_empty()) {
            (CheckOutcome::Passed, true) => format!("{}：承诺属实", self.method.label()),
            (CheckOutcome::Passed, false) => format!("{}：承诺属实。{}", self.method.label(), self.findings),
            (CheckOutcome::Failed, _) => format!("{}发现承诺不实：{}", self.method.label(), self.findings),
        }
    }
}

/// The commitment text as written: trimmed, not empty, at most [`COMMITMENT_MAX_CHARS`].
pub fn commitment_text(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("请填写承诺内容".into());
    }
    if text.chars().count() > COMMITMENT_MAX_CHARS {
        return Err(format!("承诺内容不能超过{COMMITMENT_MAX_CHARS}个字"));
    }
    Ok(text.to_owned())
}

/// Whether the applicant may write the commitment of a case of `item` in `state`.
pub fn may_commit(item: &ApprovalItem, state: &str) -> Result<(), String> {
    if !item.commitment_approval {
        return Err(format!("事项“{}”不适用告知承诺制", item.name.trim()));
    }
    if !COMMITTABLE.contains(&state) {
        return Err("已作出决定，不能再提交或修改告知承诺书".into());
    }
    Ok(())
}

/// Whether staff may record the check's result now: the case is in 承诺核查 and has none yet.
pub fn may_record_check(state: &str, recorded: Option<CheckOutcome>) -> Result<(), String> {
    if let Some(r) = recorded {
        return Err(format!("核查结果已登记（{}），不能重复登记", r.label()));
    }
    match state {
        state::POST_CHECK => Ok(()),
        state::COMMITMENT_APPROVED => Err("请先办结（发证），办结后进入承诺核查再登记核查结果".into()),
        _ => Err("办件不在承诺核查中，不能登记核查结果".into()),
    }
}

/// The extra condition of the flow's commitment actions: 告知承诺准予 needs the commitment on file,
/// 核查通过 a passed check, 撤销 a failed one. Other actions pass.
pub fn guard_flow_action(
    action_code: &str,
    has_commitment: bool,
    recorded: Option<CheckOutcome>,
) -> Result<(), String> {
    match action_code {
        action::APPROVE_ON_COMMITMENT if !has_commitment => Err("申请人尚未提交告知承诺书，不能按告知承诺准予".into()),
        action::VERIFY if recorded != Some(CheckOutcome::Passed) => {
            Err("核查通过须登记核查结果：请在“承诺核查”中登记核查方式与结果".into())
        }
        action::REVOKE if recorded != Some(CheckOutcome::Failed) => {
            Err("撤销须以核查不通过为前提：请先在“承诺核查”中登记核查不通过及发现的问题".into())
        }
        _ => Ok(()),
    }
}

/// The check's due date for a decision at `decided_ms`: `days` working days on, counted like every
/// limit (a decision after office hours counts from the next working day).
pub fn check_due(cal: &Calendar, decided_ms: i64, days: WorkingDays) -> Date {
    cal.deadline(decided_ms, days)
}

/// Whether a check due on `due` with no result is overdue on `today`.
pub fn check_overdue(due: Date, today: Date) -> bool {
    today > due
}

/// The written notice (告知书) the applicant commits to: the item's conditions and the liability for
/// a false commitment.
pub fn notice(item: &ApprovalItem) -> String {
    let conditions: Vec<String> =
        item.conditions.iter().enumerate().map(|(n, c)| format!("{}. {}", n + 1, c.trim())).collect();
    format!(
        "申请“{}”适用告知承诺制。审批机关告知：申请人应当符合以下条件——{}。申请人书面承诺已经符合上述条件、\
         所提交材料真实有效，审批机关不再索要有关证明即作出决定，并在决定后进行核查；经核查承诺不实的，\
         依法撤销审批决定、责令整改，并将失信情况记入企业档案。",
        item.name.trim(),
        if conditions.is_empty() { "法定条件".to_owned() } else { conditions.join("；") }
    )
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::approval::Catalogue;

    fn item(code: &str) -> ApprovalItem {
        Catalogue::builtin().get(code).cloned().unwrap_or_else(|| panic!("{code}"))
    }

    /// 公共场所卫生许可 allows 告知承诺; 企业设立登记 does not.
    const HYGIENE: &str = "371323-GS-007";
    const SETUP: &str = "371323-GS-001";

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn only_items_that_allow_it_and_only_before_the_decision() {
        assert!(item(HYGIENE).commitment_approval);
        assert_eq!(may_commit(&item(HYGIENE), state::REVIEWING), Ok(()));
        assert_eq!(may_commit(&item(HYGIENE), state::DRAFT), Ok(()));
        let late = may_commit(&item(HYGIENE), state::COMMITMENT_APPROVED);
        assert_eq!(late, Err("已作出决定，不能再提交或修改告知承诺书".to_owned()));
        assert!(may_commit(&item(HYGIENE), state::POST_CHECK).is_err());
        let not = may_commit(&item(SETUP), state::REVIEWING).err().unwrap_or_default();
        assert!(not.contains("不适用告知承诺制"), "{not}");
    }

    #[test]
    fn the_commitment_text_is_required_and_bounded() {
        assert_eq!(commitment_text("  本单位承诺符合条件  "), Ok("本单位承诺符合条件".to_owned()));
        assert_eq!(commitment_text(" \n "), Err("请填写承诺内容".to_owned()));
        assert!(commitment_text(&"承".repeat(COMMITMENT_MAX_CHARS)).is_ok());
        assert!(commitment_text(&"承".repeat(COMMITMENT_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn a_failed_check_needs_findings() {
        let ok = CheckResult::parse("passed", "on_site", "");
        assert_eq!(ok.as_ref().map(|r| r.outcome.flow_action()), Ok(action::VERIFY));
        assert_eq!(ok.map(|r| r.comment()), Ok("现场核查：承诺属实".to_owned()));
        let missing = CheckResult::parse("failed", "paper", "  ");
        assert!(missing.err().unwrap_or_default().contains("写明发现的问题"));
        let failed =
            CheckResult::parse("failed", "public_notice", "经营场所面积不足").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(failed.outcome.flow_action(), action::REVOKE);
        assert_eq!(failed.comment(), "公示核查发现承诺不实：经营场所面积不足");
        assert!(CheckResult::parse("maybe", "paper", "").is_err());
        assert!(CheckResult::parse("passed", "phone", "").is_err());
        assert!(CheckResult::parse("failed", "paper", &"问".repeat(FINDINGS_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn the_check_is_recorded_once_in_post_check() {
        assert_eq!(may_record_check(state::POST_CHECK, None), Ok(()));
        assert!(may_record_check(state::COMMITMENT_APPROVED, None).err().unwrap_or_default().contains("请先办结"));
        assert!(may_record_check(state::REVIEWING, None).is_err());
        let twice = may_record_check(state::POST_CHECK, Some(CheckOutcome::Passed)).err().unwrap_or_default();
        assert!(twice.contains("不能重复登记"), "{twice}");
    }

    #[test]
    fn revocation_only_after_a_failed_check() {
        let refused = guard_flow_action(action::REVOKE, true, None).err().unwrap_or_default();
        assert!(refused.starts_with("撤销须以核查不通过为前提"), "{refused}");
        assert!(guard_flow_action(action::REVOKE, true, Some(CheckOutcome::Passed)).is_err());
        assert_eq!(guard_flow_action(action::REVOKE, true, Some(CheckOutcome::Failed)), Ok(()));
        assert!(guard_flow_action(action::VERIFY, true, None).is_err());
        assert!(guard_flow_action(action::VERIFY, true, Some(CheckOutcome::Failed)).is_err());
        assert_eq!(guard_flow_action(action::VERIFY, true, Some(CheckOutcome::Passed)), Ok(()));
        assert!(guard_flow_action(action::APPROVE_ON_COMMITMENT, false, None).is_err());
        assert_eq!(guard_flow_action(action::APPROVE_ON_COMMITMENT, true, None), Ok(()));
        assert_eq!(guard_flow_action(action::APPROVE, false, None), Ok(()));
    }

    #[test]
    fn the_check_is_due_in_working_days_across_holidays() {
        let cal = Calendar::statutory();
        let at = |s: &str, h: i64| d(s).start_ms() + h * 3_600_000;
        let thirty = WorkingDays::new(30).unwrap_or_default();
        // Decided Monday 2026-09-21 10:00: 中秋 (09-25), 国庆 (10-01..10-07) and the working Saturday
        // 10-10 (调休) lie in the 30 working days.
        let due = check_due(&cal, at("2026-09-21", 10), thirty);
        assert_eq!(cal.working_days_between(d("2026-09-21"), due), 30);
        assert!(cal.is_working_day(due));
        let naive = d("2026-09-21").add_days(42);
        assert!(due > naive, "the holiday week pushes it past six calendar weeks: {due}");
        // After office hours the count starts the next working day.
        let late = check_due(&cal, at("2026-09-21", 18), thirty);
        assert_eq!(cal.working_days_between(d("2026-09-22"), late), 30);
        assert!(!check_overdue(due, due));
        assert!(check_overdue(due, due.next()));
    }

    #[test]
    fn the_notice_names_the_conditions_and_the_liability() {
        let n = notice(&item(HYGIENE));
        assert!(n.contains("公共场所卫生许可") && n.contains("撤销审批决定") && n.contains("1. "), "{n}");
    }
}
