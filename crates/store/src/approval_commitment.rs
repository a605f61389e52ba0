//! 告知承诺 in the database (core: `approval/commitment.rs`): the applicant's written commitment, the
//! post-approval check its decision schedules, the check's result with the flow action it takes (核查通过
//! → 办结, or 承诺不实撤销 → 已撤销 with the revocation on the enterprise's file), and the list of
//! checks. Each write is one transaction with its case event and audit record.

use crate::approval::{corrupt, parse_item};
use crate::approval_actions::ActionInput;
use crate::approval_cases::{Caller, CaseRow, case_in, insert_event};
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::sql::{Sql, paging};
use crate::{Page, Store, Tx, scope};
use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::commitment::{
    CheckMethod, CheckOutcome, CheckResult, check_due, check_overdue, commitment_text, may_commit, may_record_check,
};
use dianxiaoer_core::approval::{Calendar, Date, WorkingDays};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A case's commitment and its check.
#[derive(Debug, Clone, Serialize)]
pub struct CommitmentRow {
    pub case_id: i64,
    pub text: String,
    pub committed_by: Option<i64>,
    pub committed_name: String,
    pub committed_at: i64,
    /// The decision on the commitment (告知承诺准予), once made.
    pub decided_at: Option<i64>,
    /// The check's due date ("YYYY-MM-DD") and the working days it was given.
    pub check_due: Option<String>,
    pub check_days: Option<i64>,
    /// `passed` or `failed` once recorded.
    pub result: Option<String>,
    pub result_name: Option<String>,
    pub method: Option<String>,
    pub method_name: Option<String>,
    pub findings: String,
    pub checked_name: Option<String>,
    pub checked_at: Option<i64>,
}

impl CommitmentRow {
    /// Scheduled, no result, past its due date on `today`.
    pub fn overdue(&self, today: Date) -> bool {
        self.result.is_none()
            && self.check_due.as_deref().and_then(|d| Date::parse(d).ok()).is_some_and(|d| check_overdue(d, today))
    }
}

/// A check on the list, with its case.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    #[serde(flatten)]
    pub commitment: CommitmentRow,
    pub case_no: String,
    pub item_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub state: String,
    pub state_name: String,
    pub overdue: bool,
    /// Reported to leadership by the escalation job (核查督办).
    pub escalated: bool,
}

/// Which checks to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckStatus {
    /// Scheduled, no result yet (soonest due first).
    #[default]
    Pending,
    /// Result recorded (latest first).
    Done,
    /// Every commitment, decided or not (newest first).
    All,
}

const COLUMNS: &str = "k.case_id, k.text, k.committed_by, k.committed_name, k.committed_at, k.decided_at, \
    k.check_due, k.check_days, k.result, k.method, k.findings, k.checked_name, k.checked_at";

fn commitment_row(r: &AnyRow) -> Result<CommitmentRow> {
    let result: Option<String> = r.try_get("result")?;
    let method: Option<String> = r.try_get("method")?;
    Ok(CommitmentRow {
        case_id: r.try_get("case_id")?,
        text: r.try_get("text")?,
        committed_by: r.try_get("committed_by")?,
        committed_name: r.try_get("committed_name")?,
        committed_at: r.try_get("committed_at")?,
        decided_at: r.try_get("decided_at")?,
        check_due: r.try_get("check_due")?,
        check_days: r.try_get("check_days")?,
        result_name: result.as_deref().and_then(CheckOutcome::parse).map(|o| o.label().to_owned()),
        result,
        method_name: method.as_deref().and_then(CheckMethod::parse).map(|m| m.label().to_owned()),
        method,
        findings: r.try_get("findings")?,
        checked_name: r.try_get("checked_name")?,
        checked_at: r.try_get("checked_at")?,
    })
}

/// Whether the case has a commitment (`None`: none), and its check's result.
pub(crate) async fn commitment_state(tx: &mut Tx<'_>, case_id: i64) -> Result<Option<Option<CheckOutcome>>> {
    let r = sqlx::query("SELECT result FROM approval_commitments WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(&mut *tx.tx)
        .await?;
    let Some(r) = r else { return Ok(None) };
    let result: Option<String> = r.try_get(0)?;
    match result {
        None => Ok(Some(None)),
        Some(code) => {
            CheckOutcome::parse(&code).map(|o| Some(Some(o))).ok_or_else(|| corrupt(format!("check result {code}")))
        }
    }
}

/// Schedules the check of a decision on the commitment at `now` (core: `check_due`), with the period
/// in force.
pub(crate) async fn schedule_check(tx: &mut Tx<'_>, case_id: i64, cal: &Calendar, now: i64) -> Result<()> {
    let days: WorkingDays = crate::approval_aftercare::policy_in(tx).await?.post_check_days;
    sqlx::query("UPDATE approval_commitments SET decided_at = $1, check_due = $2, check_days = $3 WHERE case_id = $4")
        .bind(now)
        .bind(check_due(cal, now, days).to_string())
        .bind(i64::from(days.get()))
        .bind(case_id)
        .execute(&mut *tx.tx)
        .await?;
    Ok(())
}

impl Store {
    /// The applicant writes (or replaces, before the decision) the commitment of a case in scope.
    pub async fn commit_case(&self, caller: &Caller<'_>, case_id: i64, text: &str, now: i64) -> Result<CommitmentRow> {
        let text = commitment_text(text).map_err(Error::Invalid)?;
        let mut tx = self.begin().await?;
        let case = case_in(&mut tx, caller.scope, case_id).await?;
        if !caller.is_applicant(&case) {
            return Err(Error::Denied("告知承诺书由申请人（企业或代办人）提交".into()));
        }
        let item_json: String =
            sqlx::query_scalar("SELECT item_json FROM approval_items WHERE code = $1 AND version = $2")
                .bind(case.item_code.clone())
                .bind(case.item_version)
                .fetch_one(&mut *tx.tx)
                .await?;
        may_commit(&parse_item(&item_json)?, &case.state).map_err(Error::Refused)?;
        let replaced = commitment_state(&mut tx, case_id).await?.is_some();
        sqlx::query(
            "INSERT INTO approval_commitments (case_id, enterprise_id, text, committed_by, committed_name, \
             committed_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO UPDATE SET text = excluded.text, \
             committed_by = excluded.committed_by, committed_name = excluded.committed_name, \
             committed_at = excluded.committed_at",
        )
        .bind(case_id)
        .bind(case.enterprise_id)
        .bind(text.clone())
        .bind(caller.actor.user_id)
        .bind(caller.actor.username.clone())
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let role = if caller.role == Role::EnterpriseUser { "applicant" } else { caller.role.code() };
        let name = if replaced { "修改告知承诺书" } else { "提交告知承诺书" };
        let st = case.state.as_str();
        insert_event(&mut tx, case_id, caller.actor, role, ("commit", name), (st, st), &text, None, now).await?;
        let entry = AuditEntry::ok("approval_commitment", "approval_case", case_id)
            .detail(json!({"case_no": case.case_no, "replaced": replaced, "chars": text.chars().count()}));
        self.audit(&mut tx, caller.actor, entry, now).await?;
        let row = commitment_in(&mut tx, case_id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Staff record the check's result of a case in scope; the result takes its flow action in the
    /// same transaction (core rules). A failed check revokes the decision, and the revocation goes on
    /// the enterprise's file like a 容缺 termination (an audit record against the enterprise).
    pub async fn record_check(
        &self,
        caller: &Caller<'_>,
        case_id: i64,
        result: &CheckResult,
        cal: &Calendar,
        now: i64,
    ) -> Result<CaseRow> {
        let mut tx = self.begin().await?;
        let case = case_in(&mut tx, caller.scope, case_id).await?;
        if caller.role != Role::DepartmentStaff {
            return Err(Error::Denied(format!("{}不能登记核查结果，仅限：部门人员", caller.role.label())));
        }
        let recorded = commitment_state(&mut tx, case_id)
            .await?
            .ok_or_else(|| Error::Refused("本办件不是告知承诺办件，没有承诺核查".into()))?;
        may_record_check(&case.state, recorded).map_err(Error::Refused)?;
        let n = sqlx::query(
            "UPDATE approval_commitments SET result = $1, method = $2, findings = $3, checked_by = $4, \
             checked_name = $5, checked_at = $6 WHERE case_id = $7 AND result IS NULL",
        )
        .bind(result.outcome.code())
        .bind(result.method.code())
        .bind(result.findings.clone())
        .bind(caller.actor.user_id)
        .bind(caller.actor.username.clone())
        .bind(now)
        .bind(case_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(Error::Conflict("核查结果已被他人登记，请刷新后查看".into()));
        }
        let input = ActionInput {
            action: result.outcome.flow_action().to_owned(),
            comment: result.comment(),
            materials: Vec::new(),
        };
        let row = self.act_in(&mut tx, caller, case_id, &input, cal, now).await?;
        let detail = json!({
            "case_no": case.case_no, "result": result.outcome.code(), "method": result.method.code(),
            "findings": result.findings,
        });
        self.audit(
            &mut tx,
            caller.actor,
            AuditEntry::ok("approval_check", "approval_case", case_id).detail(detail),
            now,
        )
        .await?;
        if result.outcome == CheckOutcome::Failed {
            let entry = AuditEntry::ok("approval_revoke", "enterprise", case.enterprise_id).detail(json!({
                "case_id": case_id, "case_no": case.case_no, "item": case.item_code, "item_name": case.item_name,
                "reason": format!("告知承诺不实，撤销审批决定：{}", result.findings),
                "method": result.method.label(),
            }));
            self.audit(&mut tx, caller.actor, entry, now).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// The commitment of a case in scope, if it has one.
    pub async fn case_commitment(&self, scope_: &Scope, case_id: i64) -> Result<Option<CommitmentRow>> {
        self.case(scope_, case_id).await?;
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM approval_commitments k WHERE k.case_id = $1"))
            .bind(case_id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(commitment_row).transpose()
    }

    /// A page of the commitments in scope with their checks (`status`), with what is overdue on `today`.
    pub async fn commitment_checks(
        &self,
        scope_: &Scope,
        status: CheckStatus,
        today: Date,
        page: i64,
        per_page: i64,
    ) -> Result<Page<CheckRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let filter = |s: &mut Sql| {
            s.push(match status {
                CheckStatus::Pending => " AND k.decided_at IS NOT NULL AND k.result IS NULL",
                CheckStatus::Done => " AND k.result IS NOT NULL",
                CheckStatus::All => "",
            });
            scope::enterprises(s, scope_);
        };
        let mut count = Sql::new(
            "SELECT COUNT(*) FROM approval_commitments k JOIN enterprises e ON e.id = k.enterprise_id WHERE 1 = 1",
        );
        filter(&mut count);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(
            "SELECT k.case_id, k.text, k.committed_by, k.committed_name, k.committed_at, k.decided_at, \
             k.check_due, k.check_days, k.result, k.method, k.findings, k.checked_name, k.checked_at, c.case_no, \
             c.item_name, c.enterprise_id, e.name AS enterprise_name, c.state, c.state_name, \
             (SELECT COUNT(*) FROM approval_escalations x WHERE x.case_id = k.case_id AND x.level = 'post_check') \
             AS escalated FROM approval_commitments k JOIN approval_cases c ON c.id = k.case_id \
             JOIN enterprises e ON e.id = k.enterprise_id WHERE 1 = 1",
        );
        filter(&mut s);
        s.push(match status {
            CheckStatus::Pending => " ORDER BY k.check_due, k.case_id",
            CheckStatus::Done => " ORDER BY k.checked_at DESC, k.case_id",
            CheckStatus::All => " ORDER BY k.case_id DESC",
        });
        s.push(" LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let items = s
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let commitment = commitment_row(r)?;
                Ok(CheckRow {
                    overdue: commitment.overdue(today),
                    commitment,
                    case_no: r.try_get("case_no")?,
                    item_name: r.try_get("item_name")?,
                    enterprise_id: r.try_get("enterprise_id")?,
                    enterprise_name: r.try_get("enterprise_name")?,
                    state: r.try_get("state")?,
                    state_name: r.try_get("state_name")?,
                    escalated: r.try_get::<i64, _>("escalated")? > 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }
}

async fn commitment_in(tx: &mut Tx<'_>, case_id: i64) -> Result<Option<CommitmentRow>> {
    let r = sqlx::query(&format!("SELECT {COLUMNS} FROM approval_commitments k WHERE k.case_id = $1"))
        .bind(case_id)
        .fetch_optional(&mut *tx.tx)
        .await?;
    r.as_ref().map(commitment_row).transpose()
}
