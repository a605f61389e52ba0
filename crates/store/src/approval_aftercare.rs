//! After the decision (core: `approval/aftercare.rs`): the configurable periods of the 告知承诺 check
//! and the follow-up (kept in `settings`), the follow-up a completed case schedules, the list of
//! follow-ups due, and the overdue list of everything after the decision (checks, call-backs and
//! rectifications past their due dates), which the overdue page shows beside the open cases.

use crate::approval_stats::category_label;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::{Sql, paging};
use crate::{Page, Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::aftercare::AftercarePolicy;
use dianxiaoer_core::approval::default_flow::state;
use dianxiaoer_core::approval::{Calendar, Date};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

const POLICY_KEY: &str = "approval_aftercare";

fn parse_policy(raw: Option<String>) -> AftercarePolicy {
    raw.and_then(|v| serde_json::from_str::<AftercarePolicy>(&v).ok())
        .filter(AftercarePolicy::is_valid)
        .unwrap_or_default()
}

/// The periods in force, read inside a transaction.
pub(crate) async fn policy_in(tx: &mut Tx<'_>) -> Result<AftercarePolicy> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(POLICY_KEY)
        .fetch_optional(&mut *tx.tx)
        .await?;
    Ok(parse_policy(v))
}

/// Sets the follow-up's due date of a case reaching 办结 at `now`.
pub(crate) async fn schedule_follow_up(tx: &mut Tx<'_>, case_id: i64, cal: &Calendar, now: i64) -> Result<()> {
    let due = policy_in(tx).await?.follow_up_due(cal, now);
    sqlx::query("UPDATE approval_cases SET follow_up_due = $1 WHERE id = $2")
        .bind(due.to_string())
        .bind(case_id)
        .execute(&mut *tx.tx)
        .await?;
    Ok(())
}

/// A completed case waiting for its follow-up (回访).
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpRow {
    pub case_id: i64,
    pub case_no: String,
    pub item_name: String,
    pub enterprise_name: String,
    pub completed_at: Option<i64>,
    pub due: String,
    pub overdue: bool,
    /// The enterprise has rated the case already.
    pub rated: bool,
}

/// Something after the decision past its due date: a check, a call-back or a rectification.
#[derive(Debug, Clone, Serialize)]
pub struct AftercareOverdueRow {
    /// `post_check`, `callback` or `rectify`.
    pub kind: String,
    pub kind_name: String,
    pub case_id: i64,
    pub case_no: String,
    pub item_name: String,
    pub category: String,
    pub department: String,
    pub enterprise_name: String,
    pub due: String,
    /// Working days past the due date until today.
    pub days_over: i64,
    /// Reported to leadership by the escalation job.
    pub escalated: bool,
}

impl Store {
    /// The periods in force: the stored ones, or the defaults (30 and 5 working days).
    pub async fn aftercare_policy(&self) -> Result<AftercarePolicy> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(POLICY_KEY)
            .fetch_optional(self.pool())
            .await?;
        Ok(parse_policy(v))
    }

    /// Sets the periods (audited with before and after). Checks and follow-ups already scheduled keep
    /// their due dates.
    pub async fn set_aftercare_policy(&self, actor: &Actor, p: &AftercarePolicy, now: i64) -> Result<()> {
        if !p.is_valid() {
            return Err(Error::Invalid("核查期限应为1至120个工作日，回访期限应为1至30个工作日".into()));
        }
        let value = serde_json::to_string(p).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.begin().await?;
        let before = policy_in(&mut tx).await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(POLICY_KEY)
        .bind(value)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("set_approval_aftercare", "settings", POLICY_KEY)
            .detail(serde_json::json!({"before": before, "after": p}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// A page of the completed cases in scope waiting for their follow-up, soonest due first.
    pub async fn pending_follow_ups(
        &self,
        scope_: &Scope,
        today: Date,
        page: i64,
        per_page: i64,
    ) -> Result<Page<FollowUpRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let filter = |s: &mut Sql| {
            s.push(" AND c.state = ").text(state::COMPLETED).push(" AND c.follow_up_due IS NOT NULL");
            scope::enterprises(s, scope_);
        };
        let mut count =
            Sql::new("SELECT COUNT(*) FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id WHERE 1 = 1");
        filter(&mut count);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(
            "SELECT c.id, c.case_no, c.item_name, e.name AS enterprise_name, c.completed_at, c.follow_up_due, \
             (SELECT COUNT(*) FROM approval_ratings r WHERE r.case_id = c.id) AS ratings \
             FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id WHERE 1 = 1",
        );
        filter(&mut s);
        s.push(" ORDER BY c.follow_up_due, c.id LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let items = s
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let due: String = r.try_get("follow_up_due")?;
                Ok(FollowUpRow {
                    case_id: r.try_get("id")?,
                    case_no: r.try_get("case_no")?,
                    item_name: r.try_get("item_name")?,
                    enterprise_name: r.try_get("enterprise_name")?,
                    completed_at: r.try_get("completed_at")?,
                    overdue: Date::parse(&due).is_ok_and(|d| today > d),
                    due,
                    rated: r.try_get::<i64, _>("ratings")? > 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Checks, call-backs and rectifications in scope past their due date on `today`, most overdue
    /// first; at most `max` rows of each kind.
    pub async fn overdue_aftercare(
        &self,
        scope_: &Scope,
        cal: &Calendar,
        today: Date,
        max: i64,
    ) -> Result<Vec<AftercareOverdueRow>> {
        const CASE: &str = "c.id AS case_id, c.case_no, c.item_name, c.category, c.department, \
            e.name AS enterprise_name";
        let t = today.to_string();
        let mut checks = Sql::new(
            "SELECT 'post_check' AS kind, k.check_due AS due, \
             (SELECT COUNT(*) FROM approval_escalations x WHERE x.case_id = c.id AND x.level = 'post_check') AS esc, ",
        );
        checks.push(CASE).push(
            " FROM approval_commitments k JOIN approval_cases c ON c.id = k.case_id \
             JOIN enterprises e ON e.id = c.enterprise_id WHERE k.result IS NULL AND k.check_due < ",
        );
        checks.text(t.clone());
        scope::enterprises(&mut checks, scope_);
        checks.push(" ORDER BY k.check_due, c.id LIMIT ").i64(max);
        let mut calls = Sql::new(
            "SELECT 'callback' AS kind, r.callback_due AS due, (SELECT COUNT(*) FROM approval_escalations x \
             WHERE x.case_id = c.id AND x.level = 'callback:' || CAST(r.id AS TEXT)) AS esc, ",
        );
        calls.push(CASE).push(
            " FROM approval_ratings r JOIN approval_cases c ON c.id = r.case_id \
             JOIN enterprises e ON e.id = c.enterprise_id WHERE r.bad = 1 AND r.callback_at IS NULL AND r.callback_due < ",
        );
        calls.text(t.clone());
        scope::enterprises(&mut calls, scope_);
        calls.push(" ORDER BY r.callback_due, r.id LIMIT ").i64(max);
        let mut fixes = Sql::new(
            "SELECT 'rectify' AS kind, r.rectify_due AS due, (SELECT COUNT(*) FROM approval_escalations x \
             WHERE x.case_id = c.id AND x.level = 'rectify:' || CAST(r.id AS TEXT)) AS esc, ",
        );
        fixes.push(CASE).push(
            " FROM approval_ratings r JOIN approval_cases c ON c.id = r.case_id \
             JOIN enterprises e ON e.id = c.enterprise_id WHERE r.bad = 1 AND r.rectified_at IS NULL AND r.rectify_due < ",
        );
        fixes.text(t);
        scope::enterprises(&mut fixes, scope_);
        fixes.push(" ORDER BY r.rectify_due, r.id LIMIT ").i64(max);
        let row = |r: &AnyRow| -> Result<AftercareOverdueRow> {
            let kind: String = r.try_get("kind")?;
            let due: String = r.try_get("due")?;
            let category: String = r.try_get("category")?;
            Ok(AftercareOverdueRow {
                kind_name: kind_name(&kind).to_owned(),
                kind,
                case_id: r.try_get("case_id")?,
                case_no: r.try_get("case_no")?,
                item_name: r.try_get("item_name")?,
                category: category_label(&category).to_owned(),
                department: r.try_get("department")?,
                enterprise_name: r.try_get("enterprise_name")?,
                days_over: Date::parse(&due).map_or(0, |d| i64::from(cal.working_days_between(d, today))),
                due,
                escalated: r.try_get::<i64, _>("esc")? > 0,
            })
        };
        let mut out = Vec::new();
        for s in [checks, calls, fixes] {
            for r in s.fetch_all(self.pool()).await? {
                out.push(row(&r)?);
            }
        }
        out.sort_by(|a, b| b.days_over.cmp(&a.days_over).then(a.case_id.cmp(&b.case_id)));
        Ok(out)
    }
}

/// The label of an overdue kind.
pub fn kind_name(kind: &str) -> &'static str {
    match kind {
        "post_check" => "告知承诺核查",
        "callback" => "差评回访核实",
        "rectify" => "差评整改",
        _ => "其他",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_bad_stored_policy_falls_back_to_the_defaults() {
        assert_eq!(parse_policy(None), AftercarePolicy::default());
        assert_eq!(parse_policy(Some("not json".into())), AftercarePolicy::default());
        let zero = r#"{"post_check_days":0,"follow_up_days":5}"#;
        assert_eq!(parse_policy(Some(zero.into())), AftercarePolicy::default());
        let p = parse_policy(Some(r#"{"post_check_days":20,"follow_up_days":3}"#.into()));
        assert_eq!((p.post_check_days.get(), p.follow_up_days.get()), (20, 3));
    }
}
