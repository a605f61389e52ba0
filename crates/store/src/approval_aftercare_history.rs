//! Bulk loading of what followed historical decisions (the demo's year of cases, a migration from an
//! older system): the 告知承诺 commitment and its check, and the ratings with their call-backs and
//! rectifications, attached to cases already loaded by `approval_history.rs`. Every record passes the
//! same core rules as when it is made live (a check only on a case decided on the commitment and in
//! the state its result leads to, a rating only on a completed case and again only after a
//! rectification, the call-back before the rectification), due dates come from the calendar and the
//! periods in force, and a failed check goes on the enterprise's file. One transaction for the batch.

use crate::approval_cases::insert_event;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::{Store, Tx};
use dianxiaoer_core::access::Role;
use dianxiaoer_core::approval::commitment::{CheckOutcome, CheckResult, check_due, commitment_text};
use dianxiaoer_core::approval::default_flow::{action, state};
use dianxiaoer_core::approval::rating::{
    Handling, Level, Previous, Refusal, Step, may_handle, may_rate, rating_comment, remedy_due,
};
use dianxiaoer_core::approval::{Calendar, Date};
use serde_json::json;
use sqlx::Row;

/// Who did something, when.
#[derive(Debug, Clone)]
pub struct HistoricalBy {
    pub user_id: Option<i64>,
    pub name: String,
    pub at: i64,
}

/// The commitment of a case decided on it, and the check's result if recorded.
#[derive(Debug, Clone)]
pub struct HistoricalCommitment {
    pub text: String,
    pub by: HistoricalBy,
    pub check: Option<(CheckResult, HistoricalBy)>,
}

/// A call-back or rectification of a bad rating.
#[derive(Debug, Clone)]
pub struct HistoricalStep {
    pub by: HistoricalBy,
    pub role: Role,
    pub note: String,
}

/// One rating, in the order given.
#[derive(Debug, Clone)]
pub struct HistoricalRating {
    pub level: Level,
    pub comment: String,
    pub by: HistoricalBy,
    pub callback: Option<HistoricalStep>,
    pub rectify: Option<HistoricalStep>,
}

/// What followed the decision of one loaded case.
#[derive(Debug, Clone)]
pub struct HistoricalAftercare {
    pub case_id: i64,
    pub commitment: Option<HistoricalCommitment>,
    pub ratings: Vec<HistoricalRating>,
}

fn bad(no: &str, what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("历史办件 {no}：{what}"))
}

fn actor_of(by: &HistoricalBy, role: &str) -> Actor {
    Actor { user_id: by.user_id, username: by.name.clone(), role: role.to_owned(), ip: "import".into() }
}

struct CaseFacts {
    no: String,
    state: String,
    enterprise_id: i64,
    item_code: String,
    item_name: String,
    department: String,
    completed_on: Option<String>,
    completed_at: Option<i64>,
}

impl Store {
    /// Writes `items` (module docs); nothing is written when one breaks a rule. Returns how many
    /// ratings were written.
    pub async fn insert_historical_aftercare(
        &self,
        actor: &Actor,
        items: &[HistoricalAftercare],
        now: i64,
    ) -> Result<u64> {
        let cal = self.calendar().await?;
        let mut tx = self.begin().await?;
        let policy = crate::approval_aftercare::policy_in(&mut tx).await?;
        let mut ratings = 0u64;
        for a in items {
            let r = sqlx::query(
                "SELECT case_no, state, enterprise_id, item_code, item_name, department, completed_on, completed_at \
                 FROM approval_cases WHERE id = $1",
            )
            .bind(a.case_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(Error::NotFound)?;
            let c = CaseFacts {
                no: r.try_get(0)?,
                state: r.try_get(1)?,
                enterprise_id: r.try_get(2)?,
                item_code: r.try_get(3)?,
                item_name: r.try_get(4)?,
                department: r.try_get(5)?,
                completed_on: r.try_get(6)?,
                completed_at: r.try_get(7)?,
            };
            if let Some(k) = &a.commitment {
                self.historical_commitment(&mut tx, &cal, policy.post_check_days, a.case_id, &c, k, now).await?;
            }
            let mut previous: Option<Previous> = None;
            for (n, rating) in a.ratings.iter().enumerate() {
                let latest = n + 1 == a.ratings.len();
                previous = Some(historical_rating(&mut tx, &cal, a.case_id, &c, previous, rating, latest).await?);
                ratings += 1;
            }
        }
        let cases: Vec<i64> = items.iter().filter(|a| !a.ratings.is_empty()).map(|a| a.case_id).collect();
        crate::approval_rating_sums::refresh_rating_sums(&mut tx, &cases).await?;
        let entry = AuditEntry::ok("bulk_insert", "approval_aftercare", "batch")
            .detail(json!({"cases": items.len(), "ratings": ratings}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(ratings)
    }

    #[allow(clippy::too_many_arguments)]
    async fn historical_commitment(
        &self,
        tx: &mut Tx<'_>,
        cal: &Calendar,
        days: dianxiaoer_core::approval::WorkingDays,
        case_id: i64,
        c: &CaseFacts,
        k: &HistoricalCommitment,
        now: i64,
    ) -> Result<()> {
        let text = commitment_text(&k.text).map_err(|e| bad(&c.no, e))?;
        let decided: Option<i64> =
            sqlx::query_scalar("SELECT MIN(at) FROM approval_case_events WHERE case_id = $1 AND action = $2")
                .bind(case_id)
                .bind(action::APPROVE_ON_COMMITMENT)
                .fetch_one(&mut *tx.tx)
                .await?;
        let decided = decided.ok_or_else(|| bad(&c.no, "未按告知承诺准予，不能有告知承诺书"))?;
        if k.by.at > decided {
            return Err(bad(&c.no, "告知承诺书晚于决定"));
        }
        let expected = match &k.check {
            None => [state::COMMITMENT_APPROVED, state::POST_CHECK].contains(&c.state.as_str()),
            Some((r, _)) if r.outcome == CheckOutcome::Failed => c.state == state::REVOKED,
            Some(_) => [state::COMPLETED, state::FOLLOWED_UP].contains(&c.state.as_str()),
        };
        if !expected {
            return Err(bad(&c.no, format!("核查结果与办件状态（{}）不符", c.state)));
        }
        if k.check.as_ref().is_some_and(|(_, by)| by.at < decided) {
            return Err(bad(&c.no, "核查早于决定"));
        }
        let check = k.check.as_ref();
        sqlx::query(
            "INSERT INTO approval_commitments (case_id, enterprise_id, text, committed_by, committed_name, \
             committed_at, decided_at, check_due, check_days, result, method, findings, checked_by, checked_name, \
             checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(case_id)
        .bind(c.enterprise_id)
        .bind(text)
        .bind(k.by.user_id)
        .bind(k.by.name.clone())
        .bind(k.by.at)
        .bind(decided)
        .bind(check_due(cal, decided, days).to_string())
        .bind(i64::from(days.get()))
        .bind(check.map(|(r, _)| r.outcome.code()))
        .bind(check.map(|(r, _)| r.method.code()))
        .bind(check.map_or(String::new(), |(r, _)| r.findings.clone()))
        .bind(check.and_then(|(_, by)| by.user_id))
        .bind(check.map(|(_, by)| by.name.clone()))
        .bind(check.map(|(_, by)| by.at))
        .execute(&mut *tx.tx)
        .await?;
        if let Some((r, by)) = check.filter(|(r, _)| r.outcome == CheckOutcome::Failed) {
            let entry = AuditEntry::ok("approval_revoke", "enterprise", c.enterprise_id).detail(json!({
                "case_id": case_id, "case_no": c.no, "item": c.item_code, "item_name": c.item_name,
                "reason": format!("告知承诺不实，撤销审批决定：{}", r.findings), "method": r.method.label(),
                "checked_at": by.at,
            }));
            self.audit(tx, &actor_of(by, Role::DepartmentStaff.code()), entry, now).await?;
        }
        Ok(())
    }
}

async fn historical_rating(
    tx: &mut Tx<'_>,
    cal: &Calendar,
    case_id: i64,
    c: &CaseFacts,
    previous: Option<Previous>,
    rating: &HistoricalRating,
    latest: bool,
) -> Result<Previous> {
    may_rate(&c.state, previous).map_err(|e| bad(&c.no, e))?;
    let comment = rating_comment(&rating.comment).map_err(|e| bad(&c.no, e))?;
    if c.completed_at.is_none_or(|done| rating.by.at < done) {
        return Err(bad(&c.no, "评价早于办结"));
    }
    let level = rating.level;
    let remedy = level.is_bad().then(|| remedy_due(cal, rating.by.at));
    let mut h = Handling { bad: level.is_bad(), ..Handling::default() };
    let mut steps: Vec<(Step, &HistoricalStep, String)> = Vec::new();
    let mut last = rating.by.at;
    for (step, s) in [(Step::CallBack, &rating.callback), (Step::Rectify, &rating.rectify)] {
        let Some(s) = s else { continue };
        let note = may_handle(step, s.role, h, &s.note).map_err(|r| match r {
            Refusal::Role(m) | Refusal::State(m) => bad(&c.no, m),
        })?;
        if s.by.at < last {
            return Err(bad(&c.no, format!("{}早于上一步", step.label())));
        }
        last = s.by.at;
        match step {
            Step::CallBack => h.called_back = true,
            Step::Rectify => h.rectified = true,
        }
        steps.push((step, s, note));
    }
    let step_of = |want: Step| steps.iter().find(|(s, _, _)| *s == want);
    let (cb, rf) = (step_of(Step::CallBack), step_of(Step::Rectify));
    sqlx::query(
        "INSERT INTO approval_ratings (case_id, enterprise_id, item_code, department, completed_on, level, comment, \
         rated_by, rated_name, rated_at, latest, bad, callback_due, callback_at, callback_by, callback_name, \
         callback_note, rectify_due, rectified_at, rectified_by, rectified_name, rectify_note) VALUES ($1, $2, $3, \
         $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
    )
    .bind(case_id)
    .bind(c.enterprise_id)
    .bind(c.item_code.clone())
    .bind(c.department.clone())
    .bind(c.completed_on.clone().unwrap_or_else(|| Date::from_ms(rating.by.at).to_string()))
    .bind(level.score())
    .bind(comment.clone())
    .bind(rating.by.user_id)
    .bind(rating.by.name.clone())
    .bind(rating.by.at)
    .bind(i64::from(latest))
    .bind(i64::from(level.is_bad()))
    .bind(remedy.map(|r| r.callback_due.to_string()))
    .bind(cb.map(|(_, s, _)| s.by.at))
    .bind(cb.and_then(|(_, s, _)| s.by.user_id))
    .bind(cb.map(|(_, s, _)| s.by.name.clone()))
    .bind(cb.map_or(String::new(), |(_, _, n)| n.clone()))
    .bind(remedy.map(|r| r.rectify_due.to_string()))
    .bind(rf.map(|(_, s, _)| s.by.at))
    .bind(rf.and_then(|(_, s, _)| s.by.user_id))
    .bind(rf.map(|(_, s, _)| s.by.name.clone()))
    .bind(rf.map_or(String::new(), |(_, _, n)| n.clone()))
    .execute(&mut *tx.tx)
    .await?;
    let st = c.state.as_str();
    let text = if comment.is_empty() { level.label().to_owned() } else { format!("{}：{comment}", level.label()) };
    let name = if previous.is_some() { "整改后再次评价" } else { "评价" };
    let by = actor_of(&rating.by, "applicant");
    insert_event(tx, case_id, &by, "applicant", ("rate", name), (st, st), &text, None, rating.by.at).await?;
    for (step, s, note) in &steps {
        let role = s.role.code();
        let event = (step.code(), format!("差评{}", step.label()));
        let by = actor_of(&s.by, role);
        insert_event(tx, case_id, &by, role, (event.0, &event.1), (st, st), note, None, s.by.at).await?;
    }
    Ok(Previous { level, rectified: h.rectified })
}
