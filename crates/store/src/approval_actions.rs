//! Actions on an approval case: the only way a case moves, through `Workflow::apply` with the role
//! the caller acts as (core: `approval/case.rs`). One transaction: the case, its pause, its event, the
//! certificate a decision of 准予 seals, and the audit record, or nothing.

use crate::approval::{corrupt, parse_flow, parse_item};
use crate::approval_cases::{Caller, CaseRow, actors_text, case_in, clean_names, insert_event, names_json, pauses_in};
use crate::audit::AuditEntry;
use crate::certificates::Decision;
use crate::error::{Error, Result};
use crate::{Store, Tx};
use dianxiaoer_core::approval::case::{
    COMMENT_MAX_CHARS, acting_as, actors_in, actors_of, available, check_action, clock_effect, days_left,
    needs_comment, refused_for_role,
};
use dianxiaoer_core::approval::certificate::decision_of;
use dianxiaoer_core::approval::commitment::guard_flow_action;
use dianxiaoer_core::approval::default_flow::{action, state};
use dianxiaoer_core::approval::{Calendar, Pause, Workflow, WorkingDays};
use serde::Serialize;
use serde_json::json;

/// An action as asked for, parsed at the edge.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    /// The action's code in the item's workflow.
    pub action: String,
    pub comment: String,
    /// Materials handed in with the action (submission, 补正, 补齐材料), added to the case's.
    pub materials: Vec<String>,
}

/// An action the caller may take now, for the buttons and the API.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AvailableAction {
    pub code: String,
    pub name: String,
    /// A reason must be written.
    pub needs_comment: bool,
}

/// Actions taken only by recording the post-approval check's result (`approval_commitment.rs`), so
/// they are not offered as buttons.
const TAKEN_BY_CHECK: [&str; 2] = [action::VERIFY, action::REVOKE];

/// Actions that may hand in materials.
const WITH_MATERIALS: [&str; 3] = [action::SUBMIT, action::SUBMIT_CORRECTION, action::SUPPLY];

impl Store {
    /// What the caller may do with a case in its current state (the check's two actions aside).
    pub fn case_actions(&self, caller: &Caller<'_>, case: &CaseRow, flow: &Workflow) -> Vec<AvailableAction> {
        let actors = actors_of(caller.role, caller.is_applicant(case));
        available(flow, &case.state, &actors)
            .into_iter()
            .filter(|a| !TAKEN_BY_CHECK.contains(&a.code.as_str()))
            .map(|a| AvailableAction {
                code: a.code.clone(),
                name: a.name.clone(),
                needs_comment: needs_comment(&a.code),
            })
            .collect()
    }

    /// Takes an action on a case in the caller's scope (module docs). Refused with `Denied` when the
    /// flow allows the action in this state but not to the caller's role, with `Refused` when the
    /// state, the materials or a missing reason do not allow it, with `Conflict` when the case moved
    /// meanwhile. `cal` is the working-day calendar in force; `now` the instant of the action.
    pub async fn apply_case_action(
        &self,
        caller: &Caller<'_>,
        case_id: i64,
        input: &ActionInput,
        cal: &Calendar,
        now: i64,
    ) -> Result<CaseRow> {
        let mut tx = self.begin().await?;
        let row = self.act_in(&mut tx, caller, case_id, input, cal, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// [`Store::apply_case_action`] inside the caller's transaction (the check's result takes its
    /// flow action in the same transaction as it is recorded).
    pub(crate) async fn act_in(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller<'_>,
        case_id: i64,
        input: &ActionInput,
        cal: &Calendar,
        now: i64,
    ) -> Result<CaseRow> {
        let comment = input.comment.trim();
        if comment.chars().count() > COMMENT_MAX_CHARS {
            return Err(Error::Invalid(format!("意见不能超过{COMMENT_MAX_CHARS}个字")));
        }
        let case = case_in(tx, caller.scope, case_id).await?;
        let item_json: String =
            sqlx::query_scalar("SELECT item_json FROM approval_items WHERE code = $1 AND version = $2")
                .bind(case.item_code.clone())
                .bind(case.item_version)
                .fetch_one(&mut *tx.tx)
                .await?;
        let item = parse_item(&item_json)?;
        let flow_json: String =
            sqlx::query_scalar("SELECT flow_json FROM approval_workflows WHERE item_code = $1 AND item_version = $2")
                .bind(case.item_code.clone())
                .bind(case.item_version)
                .fetch_one(&mut *tx.tx)
                .await?;
        let flow = parse_flow(&flow_json)?;

        let code = input.action.trim();
        let actors = actors_of(caller.role, caller.is_applicant(&case));
        let actor = acting_as(&flow, &case.state, code, &actors).ok_or(Error::NotFound)?;
        crate::approval_assign::check_assignee(&case, caller, actor)?;
        let to = match flow.apply(&case.state, code, actor) {
            Ok(to) => to.clone(),
            Err(e) if refused_for_role(&flow, &case.state, code, actor) => return Err(Error::Denied(e.to_string())),
            Err(e) => return Err(Error::Refused(e.to_string())),
        };
        let from = flow.state(&case.state).cloned().ok_or_else(|| corrupt(format!("state {}", case.state)))?;
        let name = flow.actions_from(&case.state).find(|a| a.code == code).map_or(code, |a| a.name.as_str());
        if needs_comment(code) && comment.is_empty() {
            return Err(Error::Refused(format!("请填写“{name}”的理由")));
        }
        // 告知承诺 (core: commitment.rs): the decision needs the commitment, 核查通过 and 撤销 the
        // check's result.
        let commitment = crate::approval_commitment::commitment_state(tx, case_id).await?;
        guard_flow_action(code, commitment.is_some(), commitment.flatten()).map_err(Error::Refused)?;
        let handed_in = clean_names(&input.materials);
        if !handed_in.is_empty() && !WITH_MATERIALS.contains(&code) {
            return Err(Error::Refused(format!("“{name}”时不能递交材料；请在提交、提交补正或补齐材料时递交")));
        }
        let mut materials = case.materials.clone();
        materials.extend(handed_in.iter().cloned());
        let materials = clean_names(&materials);
        let missing = check_action(&item, code, &materials).map_err(Error::Refused)?.unwrap_or(case.missing.clone());

        // 压茬审批: a case serving an investment project's plan is decided only after its prerequisites
        // are granted (approval_projects.rs); pre-review and acceptance never wait.
        crate::approval_projects::check_decision_gate(tx, case_id, code).await?;

        // 准予 seals the certificate in this transaction, or the decision is refused with the seal's
        // reason (certificates.rs); a revocation marks it.
        let mut certificate = None;
        if let Some(decision) = decision_of(code) {
            let credit_code: String = sqlx::query_scalar("SELECT credit_code FROM enterprises WHERE id = $1")
                .bind(case.enterprise_id)
                .fetch_one(&mut *tx.tx)
                .await?;
            let d = Decision {
                case_id,
                case_no: &case.case_no,
                item: &item,
                item_name: &case.item_name,
                enterprise_name: &case.enterprise_name,
                credit_code: &credit_code,
                decision,
                at: now,
            };
            certificate = self.seal_decision(tx, &d).await?;
        }
        if code == action::REVOKE {
            self.revoke_certificate(tx, case_id, comment, now).await?;
        }

        // The clock (core: case.rs): acceptance starts it, 补正 pauses it, the supplement resumes it.
        let limit = u32::try_from(case.limit_days)
            .ok()
            .and_then(WorkingDays::new)
            .ok_or_else(|| corrupt(format!("limit of case {case_id}")))?;
        let effect = clock_effect(&from, &to, case.received_at.is_some());
        let mut pauses = pauses_in(tx, case_id).await?;
        let mut received = case.received_at;
        let mut deadline = case.deadline.clone();
        let mut paused = case.paused_ms;
        if effect.start {
            received = Some(now);
            deadline = Some(cal.deadline(now, limit).to_string());
        }
        if effect.pause {
            sqlx::query("INSERT INTO approval_case_pauses (case_id, from_ms) VALUES ($1, $2)")
                .bind(case_id)
                .bind(now)
                .execute(&mut *tx.tx)
                .await?;
            pauses.push(Pause::new(now, None).map_err(|e| corrupt(e.message))?);
            paused = Some(now);
        }
        if effect.resume {
            sqlx::query("UPDATE approval_case_pauses SET until_ms = $1 WHERE case_id = $2 AND until_ms IS NULL")
                .bind(now)
                .bind(case_id)
                .execute(&mut *tx.tx)
                .await?;
            pauses = pauses
                .into_iter()
                .map(|p| if p.is_running() { Pause::new(p.from_ms(), Some(now.max(p.from_ms()))) } else { Ok(p) })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| corrupt(e.message))?;
            paused = None;
            if let Some(r) = received {
                deadline = cal.deadline_paused(r, limit, &pauses).map(|d| d.to_string());
            }
        }
        let sla_left = received.map(|r| days_left(cal, r, now, limit.get(), &pauses));
        // 办结: the first time the case reaches completion, the working days it used are kept for the
        // statistics (migration 0011).
        let completing = is_completion(&to.code) && !is_completion(&from.code);
        let elapsed = match (completing, received) {
            (true, Some(r)) => Some(i64::from(cal.elapsed_working_days_paused(r, now, &pauses))),
            (true, None) => Some(0),
            _ => None,
        };

        // Only the first completion counts in the daily sums (the columns below keep the first too).
        let first_completion = completing
            && sqlx::query_scalar::<_, i64>(
                "SELECT CASE WHEN completed_at IS NULL THEN 1 ELSE 0 END FROM approval_cases WHERE id = $1",
            )
            .bind(case_id)
            .fetch_one(&mut *tx.tx)
            .await?
                == 1;
        let n = sqlx::query(
            "UPDATE approval_cases SET state = $1, state_name = $2, actors = $3, materials = $4, missing = $5, \
             received_at = $6, deadline = $7, paused_ms = $8, updated_at = $9, \
             completed_at = COALESCE(completed_at, $12), completed_on = COALESCE(completed_on, $13), \
             elapsed_days = COALESCE(elapsed_days, $14) WHERE id = $10 AND state = $11",
        )
        .bind(to.code.clone())
        .bind(to.name.clone())
        .bind(actors_text(&actors_in(&flow, &to.code)))
        .bind(names_json(&materials))
        .bind(names_json(&missing))
        .bind(received)
        .bind(deadline.clone())
        .bind(paused)
        .bind(now)
        .bind(case_id)
        .bind(case.state.clone())
        .bind(completing.then_some(now))
        .bind(completing.then(|| dianxiaoer_core::approval::Date::from_ms(now).to_string()))
        .bind(elapsed)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(Error::Conflict("办件状态已被他人改变，请刷新后重试".into()));
        }
        if first_completion {
            crate::approval_stats_days::count_completions(tx, &[case_id]).await?;
        }
        crate::approval_assign::lapse(tx, case_id).await?;
        if code == action::APPROVE_ON_COMMITMENT {
            crate::approval_commitment::schedule_check(tx, case_id, cal, now).await?;
        }
        if to.code == state::COMPLETED && from.code != state::COMPLETED {
            crate::approval_aftercare::schedule_follow_up(tx, case_id, cal, now).await?;
        }
        let states = (from.code.as_str(), to.code.as_str());
        insert_event(tx, case_id, caller.actor, actor.code(), (code, name), states, comment, sla_left, now).await?;
        let entry = AuditEntry::ok("approval_action", "approval_case", case_id).detail(json!({
            "case_no": case.case_no, "action": code, "as": actor.code(), "from": from.code, "to": to.code,
            "comment": comment, "deadline": deadline, "sla_left_days": sla_left, "handed_in": handed_in,
            "certificate": certificate,
        }));
        self.audit(tx, caller.actor, entry, now).await?;
        case_in(tx, caller.scope, case_id).await
    }
}

/// Whether a state counts as 办结 for the statistics: completed, or approved on commitment and
/// waiting for the post-check (the decision is made and the certificate issued).
pub(crate) fn is_completion(state: &str) -> bool {
    [state::COMPLETED, state::POST_CHECK, state::FOLLOWED_UP].contains(&state)
}
