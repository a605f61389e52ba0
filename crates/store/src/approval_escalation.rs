//! The escalation job (超期督办): run every minute by the binary, and on demand. It acts on SLA
//! breaches without waiting for a new event on the case:
//!
//! - an open case whose clock runs past its deadline is reported to leadership (level `overdue`);
//! - a submitted case nobody has accepted within [`UNACCEPTED_DAYS`] working days is reported too
//!   (level `unaccepted`): items that nobody has taken are escalated as well;
//! - a case accepted with missing materials (容缺待补) whose deadline has passed is terminated by the
//!   flow's 终止办理 action, with the reason on the enterprise's file (an audit record against the
//!   enterprise, shown in its history).
//!
//! - after the decision: a 告知承诺 check with no result past its due date (level `post_check`), and
//!   a bad rating's call-back or rectification past its due date (levels `callback:<rating>` and
//!   `rectify:<rating>`, since a case may be rated badly again after a rectification) are reported
//!   too; they show on the overdue list.
//!
//! An escalation is an event of the case and a line of the batch's audit record, once per case and
//! level (`approval_escalations` holds the key, so a second run or a second instance changes nothing;
//! written in bulk, `approval_escalation_write.rs`). It moves no state and no
//! clock: the deadline and the overall clock keep running from acceptance. Escalated open cases show
//! in leadership's inbox and on the overdue list.

use crate::approval::{corrupt, parse_flow};
use crate::approval_cases::{actors_text, insert_event, pauses_in};
use crate::approval_escalation_write::{Due, ESCALATION_BATCH};
use crate::audit::{Actor, AuditEntry};
use crate::error::Result;
use crate::{Store, Tx};
use dianxiaoer_core::approval::case::{actors_in, days_left};
use dianxiaoer_core::approval::default_flow::{action, state};
use dianxiaoer_core::approval::{Calendar, Date};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

/// Working days a submitted case (预审) may wait for acceptance before it is escalated; the same as
/// the 预审 limit of the default flow (《行政许可法》第三十二条: 五日内一次告知).
pub const UNACCEPTED_DAYS: u32 = 5;

const DAY_MS: i64 = 86_400_000;

/// The identity the job acts and audits under.
pub fn escalation_actor() -> Actor {
    Actor { user_id: None, username: "系统（超期督办）".into(), role: "system".into(), ip: "local".into() }
}

/// What one run did: the case numbers per kind.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct EscalationReport {
    pub overdue: Vec<String>,
    pub unaccepted: Vec<String>,
    pub terminated: Vec<String>,
    /// 告知承诺 checks past due.
    pub post_check: Vec<String>,
    /// Bad ratings whose call-back is past due.
    pub callback: Vec<String>,
    /// Bad ratings whose rectification is past due.
    pub rectify: Vec<String>,
    /// 容缺 cases whose applicant was reminded of the deadline (not escalated to leadership).
    pub reminded: Vec<String>,
}

impl Store {
    /// One run of the job at `now` (module docs). Escalations are written in batches, a 容缺
    /// termination in its own transaction.
    pub async fn escalate_overdue(&self, now: i64) -> Result<EscalationReport> {
        let cal = self.calendar().await?;
        let today = Date::from_ms(now);
        let mut report = EscalationReport::default();
        let actor = escalation_actor();

        let deficient = sqlx::query(
            "SELECT id, case_no FROM approval_cases WHERE state = $1 AND deadline IS NOT NULL AND deadline < $2 \
             ORDER BY id",
        )
        .bind(state::DEFICIENT)
        .bind(today.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut cases = Vec::with_capacity(deficient.len());
        for r in deficient {
            cases.push((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?));
        }
        report.terminated = self.terminate_many(&actor, &cal, &cases, today, now).await?;

        // 容缺: remind the applicant once, on the last working day before the deadline or later.
        let remind_from = cal.add_working_days(
            today,
            dianxiaoer_core::approval::WorkingDays::new(1).unwrap_or(dianxiaoer_core::approval::WorkingDays::ZERO),
        );
        let soon = sqlx::query(
            "SELECT id, case_no, deadline, missing FROM approval_cases c WHERE c.state = $1 AND c.deadline IS NOT NULL \
             AND c.deadline >= $2 AND c.deadline <= $3 AND NOT EXISTS \
             (SELECT 1 FROM approval_escalations x WHERE x.case_id = c.id AND x.level = 'remind') ORDER BY id",
        )
        .bind(state::DEFICIENT)
        .bind(today.to_string())
        .bind(remind_from.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut due = Vec::with_capacity(soon.len());
        for r in soon {
            let (id, no, deadline, missing): (i64, String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            let missing: Vec<String> = serde_json::from_str(&missing).unwrap_or_default();
            let comment = format!(
                "容缺受理承诺补齐的材料请于 {deadline} 前提交：{}；逾期将终止办理并记入企业档案",
                missing.join("、")
            );
            due.push(Due::new(id, no, "remind", comment));
        }
        report.reminded = self.escalate_many(&actor, &cal, due, now).await?;

        let overdue = sqlx::query(
            "SELECT id, case_no FROM approval_cases c WHERE c.completed_at IS NULL AND c.actors <> '' \
             AND c.paused_ms IS NULL AND c.deadline IS NOT NULL AND c.deadline < $1 AND NOT EXISTS \
             (SELECT 1 FROM approval_escalations x WHERE x.case_id = c.id AND x.level = 'overdue') ORDER BY id",
        )
        .bind(today.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut due = Vec::with_capacity(overdue.len());
        for r in overdue {
            let (id, no): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
            due.push(Due::new(id, no, "overdue", "已超过办结期限，报领导督办"));
        }
        report.overdue = self.escalate_many(&actor, &cal, due, now).await?;

        // Calendar days are a cheap lower bound of working days; the calendar decides.
        let waiting = sqlx::query(
            "SELECT id, case_no, updated_at FROM approval_cases c WHERE c.state = $1 AND c.updated_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM approval_escalations x WHERE x.case_id = c.id AND x.level = 'unaccepted') \
             ORDER BY id",
        )
        .bind(state::PRE_REVIEW)
        .bind(now - i64::from(UNACCEPTED_DAYS) * DAY_MS)
        .fetch_all(self.pool())
        .await?;
        let mut due = Vec::new();
        for r in waiting {
            let (id, no, since): (i64, String, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            if cal.elapsed_working_days(since, now) <= UNACCEPTED_DAYS {
                continue;
            }
            let comment = format!("提交后 {UNACCEPTED_DAYS} 个工作日内无人受理，报领导督办");
            due.push(Due::new(id, no, "unaccepted", comment));
        }
        report.unaccepted = self.escalate_many(&actor, &cal, due, now).await?;
        self.escalate_aftercare(&actor, &cal, today, now, &mut report).await?;
        if report != EscalationReport::default() {
            tracing::info!(
                overdue = report.overdue.len(),
                unaccepted = report.unaccepted.len(),
                terminated = report.terminated.len(),
                post_check = report.post_check.len(),
                callback = report.callback.len(),
                rectify = report.rectify.len(),
                reminded = report.reminded.len(),
                "approval escalation run"
            );
        }
        Ok(report)
    }

    /// Reports the checks, call-backs and rectifications past their due dates (module docs).
    async fn escalate_aftercare(
        &self,
        actor: &Actor,
        cal: &Calendar,
        today: Date,
        now: i64,
        report: &mut EscalationReport,
    ) -> Result<()> {
        let t = today.to_string();
        let checks = sqlx::query(
            "SELECT k.case_id, c.case_no, k.check_due FROM approval_commitments k JOIN approval_cases c              ON c.id = k.case_id WHERE k.result IS NULL AND k.check_due < $1 AND NOT EXISTS              (SELECT 1 FROM approval_escalations x WHERE x.case_id = k.case_id AND x.level = 'post_check')              ORDER BY k.case_id",
        )
        .bind(t.clone())
        .fetch_all(self.pool())
        .await?;
        let mut due = Vec::with_capacity(checks.len());
        for r in checks {
            let (id, no, by): (i64, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let comment = format!("告知承诺核查已超过核查期限（{by}）仍未登记结果，报领导督办");
            due.push(Due::new(id, no, "post_check", comment));
        }
        report.post_check = self.escalate_many(actor, cal, due, now).await?;
        for (step, due_col, done_col, what) in [
            ("callback", "r.callback_due", "r.callback_at", "回访核实"),
            ("rectify", "r.rectify_due", "r.rectified_at", "整改"),
        ] {
            let sql = format!(
                "SELECT r.id, r.case_id, c.case_no, {due_col} FROM approval_ratings r JOIN approval_cases c                  ON c.id = r.case_id WHERE r.bad = 1 AND {done_col} IS NULL AND {due_col} < $1 AND NOT EXISTS                  (SELECT 1 FROM approval_escalations x WHERE x.case_id = r.case_id                  AND x.level = '{step}:' || CAST(r.id AS TEXT)) ORDER BY r.id"
            );
            let mut due = Vec::new();
            for r in sqlx::query(&sql).bind(t.clone()).fetch_all(self.pool()).await? {
                let (rating, id, no, by): (i64, i64, String, String) =
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                let comment = format!("差评{what}已超过期限（{by}），报领导督办");
                due.push(Due::new(id, no, format!("{step}:{rating}"), comment));
            }
            let done = self.escalate_many(actor, cal, due, now).await?;
            if step == "callback" { &mut report.callback } else { &mut report.rectify }.extend(done);
        }
        Ok(())
    }

    async fn left(
        &self,
        tx: &mut Tx<'_>,
        cal: &Calendar,
        id: i64,
        received: Option<i64>,
        limit: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        let Some(rec) = received else { return Ok(None) };
        let pauses = pauses_in(tx, id).await?;
        Ok(Some(days_left(cal, rec, now, u32::try_from(limit).unwrap_or(0), &pauses)))
    }

    /// Terminates the 容缺待补 cases past their deadline (id, case number), [`ESCALATION_BATCH`] to a
    /// transaction; a batch that fails is retried case by case, and a case that fails alone is
    /// logged and skipped until the next run. Answers the case numbers terminated.
    async fn terminate_many(
        &self,
        actor: &Actor,
        cal: &Calendar,
        cases: &[(i64, String)],
        today: Date,
        now: i64,
    ) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for chunk in cases.chunks(ESCALATION_BATCH) {
            let mut tx = self.begin().await?;
            let mut batch = Vec::new();
            let mut failed = None;
            for (id, no) in chunk {
                match self.terminate_deficient(&mut tx, actor, cal, *id, today, now).await {
                    Ok(true) => batch.push(no.clone()),
                    Ok(false) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            match failed {
                None => {
                    tx.commit().await?;
                    done.extend(batch);
                    continue;
                }
                Some(e) => tracing::warn!(error = %e, "termination batch failed; retrying case by case"),
            }
            drop(tx);
            for (id, no) in chunk {
                let mut tx = self.begin().await?;
                match self.terminate_deficient(&mut tx, actor, cal, *id, today, now).await {
                    Ok(true) => {
                        tx.commit().await?;
                        done.push(no.clone());
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(case = %no, error = %e, "termination failed; skipped until the next run"),
                }
            }
        }
        Ok(done)
    }

    /// Terminates a 容缺待补 case past its deadline by the flow's 终止办理 action, in `tx`; `false`
    /// when the flow has no such action or the case moved meanwhile.
    async fn terminate_deficient(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        cal: &Calendar,
        id: i64,
        today: Date,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "SELECT c.case_no, c.item_code, c.enterprise_id, c.missing, c.deadline, c.received_at, c.limit_days, \
             w.flow_json FROM approval_cases c JOIN approval_workflows w ON w.item_code = c.item_code \
             AND w.item_version = c.item_version WHERE c.id = $1 AND c.state = $2",
        )
        .bind(id)
        .bind(state::DEFICIENT)
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(r) = r else { return Ok(false) };
        let flow = parse_flow(&r.try_get::<String, _>("flow_json")?)?;
        let Some(act) = flow.actions_from(state::DEFICIENT).find(|a| a.code == action::TERMINATE).cloned() else {
            return Ok(false);
        };
        let to = flow.state(&act.to).cloned().ok_or_else(|| corrupt(format!("state {}", act.to)))?;
        let no: String = r.try_get("case_no")?;
        let enterprise: i64 = r.try_get("enterprise_id")?;
        let missing = crate::approval_cases::names(&r.try_get::<String, _>("missing")?)?;
        let deadline: Option<String> = r.try_get("deadline")?;
        let left = self.left(tx, cal, id, r.try_get("received_at")?, r.try_get("limit_days")?, now).await?;
        let reason = format!(
            "容缺受理后未在期限（{}）内补齐材料（{}），自动终止办理",
            deadline.clone().unwrap_or_default(),
            missing.join("、")
        );
        let n = sqlx::query(
            "UPDATE approval_cases SET state = $1, state_name = $2, actors = $3, updated_at = $4 \
             WHERE id = $5 AND state = $6",
        )
        .bind(to.code.clone())
        .bind(to.name.clone())
        .bind(actors_text(&actors_in(&flow, &to.code)))
        .bind(now)
        .bind(id)
        .bind(state::DEFICIENT)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        let states = (state::DEFICIENT, to.code.as_str());
        insert_event(tx, id, actor, "system", (&act.code, &act.name), states, &reason, left, now).await?;
        let entry = AuditEntry::ok("approval_auto_terminate", "enterprise", enterprise).detail(json!({
            "case_id": id, "case_no": no, "item": r.try_get::<String, _>("item_code")?, "reason": reason,
            "missing": missing, "deadline": deadline, "today": today.to_string(),
        }));
        self.audit(tx, actor, entry, now).await?;
        Ok(true)
    }
}
