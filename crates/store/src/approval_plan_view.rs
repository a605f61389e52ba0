//! The approval plan of one project as its page shows it: each item with its case and progress, the
//! gate, the critical path, and the elapsed working days against the sequential sum and the target
//! (core: `approval/project_plan.rs`). Read-only; the progress of each case is derived from its state,
//! its 准予 / 不予 events and its pauses on the working-day calendar in force.

use crate::approval_projects::{GRANTED, PlanProject, active_catalogue, project_in, stored_plan};
use crate::error::{Error, Result};
use crate::{Store, approval::corrupt};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::project_plan::{Edge, Plan, Progress, plan_items, progress_of};
use dianxiaoer_core::approval::{Calendar, ConstructionStage, Pause};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

/// One item of the plan with its case.
#[derive(Debug, Clone, Serialize)]
pub struct PlanItemView {
    pub code: String,
    pub name: String,
    pub stage: ConstructionStage,
    pub statutory_days: u32,
    pub promised_days: u32,
    pub case_id: Option<i64>,
    pub case_no: Option<String>,
    pub case_state_name: Option<String>,
    pub progress: Progress,
    /// Working days used: to the decision or end, or so far while open.
    pub elapsed_days: Option<u32>,
    /// What the item counts for on the critical path.
    pub duration_days: u32,
    pub critical: bool,
    /// Every prerequisite granted: a decision is allowed.
    pub may_decide: bool,
    pub requires: Vec<String>,
    /// The prerequisites not granted yet.
    pub waiting_for: Vec<String>,
    /// A prerequisite ended without a grant.
    pub blocked: bool,
}

impl PlanItemView {
    pub fn status_label(&self) -> &'static str {
        self.progress.label()
    }

    pub fn stage_label(&self) -> &'static str {
        self.stage.label()
    }
}

/// The whole plan of a project.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub project: PlanProject,
    /// By stage, then code.
    pub items: Vec<PlanItemView>,
    pub edges: Vec<Edge>,
    /// Item codes of the critical path, first prerequisite first.
    pub critical: Vec<String>,
    pub projected_days: u32,
    pub sequential_days: u32,
    pub target_days: u32,
    pub meets_target: bool,
    pub complete: bool,
    /// Working days from the first acceptance to now, or to the last grant once complete; none
    /// before any item was accepted.
    pub elapsed_days: Option<u32>,
}

impl PlanView {
    /// The items of one stage, for the page's columns.
    pub fn in_stage(&self, stage: &ConstructionStage) -> Vec<&PlanItemView> {
        self.items.iter().filter(|i| i.stage == *stage).collect()
    }

    /// The name of the plan's item `code` (the code itself if absent).
    pub fn name(&self, code: &str) -> String {
        self.items.iter().find(|i| i.code == code).map_or_else(|| code.to_owned(), |i| i.name.clone())
    }

    /// The items' names for codes of the plan, joined for display.
    pub fn names(&self, codes: &[String]) -> String {
        codes.iter().map(|c| self.name(c)).collect::<Vec<_>>().join("、")
    }

    /// A percentage of the largest of (sequential sum, target, projection, elapsed) for the bars.
    pub fn bar(&self, days: impl std::borrow::Borrow<u32>) -> u32 {
        let days = *days.borrow();
        let max = [self.sequential_days, self.target_days, self.projected_days, self.elapsed_days.unwrap_or(0)]
            .into_iter()
            .max()
            .unwrap_or(1)
            .max(1);
        days.saturating_mul(100) / max
    }
}

/// The case facts of one plan item.
struct Facts {
    case_id: i64,
    case_no: String,
    state: String,
    state_name: String,
    received: Option<i64>,
    updated: i64,
    granted_at: Option<i64>,
    refused_at: Option<i64>,
    granted: bool,
}

impl Store {
    /// The plan of project `id` within the scope of its enterprise, its progress on `cal` at `now`.
    pub async fn approval_plan(&self, scope_: &Scope, id: i64, cal: &Calendar, now: i64) -> Result<PlanView> {
        let mut conn = self.pool().acquire().await?;
        let project = project_in(&mut conn, scope_, id).await?;
        let catalogue = active_catalogue(&mut conn).await?;
        let (items, edges) = stored_plan(&mut conn, id).await?;
        let codes: Vec<&str> = items.iter().map(|(c, _)| c.as_str()).collect();
        let plan_items = plan_items(&catalogue, &codes).map_err(|e| corrupt(format!("plan {id}: {e}")))?;
        let plan = Plan::new(plan_items, &edges).map_err(|e| corrupt(format!("plan {id}: {e}")))?;
        let rows = sqlx::query(&format!(
            "SELECT i.item_code, c.id, c.case_no, c.state, c.state_name, c.received_at, c.updated_at, \
             (SELECT MAX(ev.at) FROM approval_case_events ev WHERE ev.case_id = c.id \
              AND ev.action IN ('approve', 'approve_on_commitment')) AS granted_at, \
             (SELECT MAX(ev.at) FROM approval_case_events ev WHERE ev.case_id = c.id AND ev.action = 'refuse') \
              AS refused_at, {GRANTED} AS granted \
             FROM approval_plan_items i JOIN approval_cases c ON c.id = i.case_id WHERE i.project_id = $1"
        ))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut facts: HashMap<String, Facts> = HashMap::new();
        for r in &rows {
            facts.insert(
                r.try_get("item_code")?,
                Facts {
                    case_id: r.try_get("id")?,
                    case_no: r.try_get("case_no")?,
                    state: r.try_get("state")?,
                    state_name: r.try_get("state_name")?,
                    received: r.try_get("received_at")?,
                    updated: r.try_get("updated_at")?,
                    granted_at: r.try_get("granted_at")?,
                    refused_at: r.try_get("refused_at")?,
                    granted: r.try_get::<i64, _>("granted")? != 0,
                },
            );
        }
        let pause_rows = sqlx::query(
            "SELECT p.case_id, p.from_ms, p.until_ms FROM approval_case_pauses p \
             JOIN approval_plan_items i ON i.case_id = p.case_id WHERE i.project_id = $1 ORDER BY p.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut pauses: HashMap<i64, Vec<Pause>> = HashMap::new();
        for r in &pause_rows {
            let case_id: i64 = r.try_get(0)?;
            let p =
                Pause::new(r.try_get(1)?, r.try_get(2)?).map_err(|e| corrupt(format!("pause of {case_id}: {e}")))?;
            pauses.entry(case_id).or_default().push(p);
        }
        drop(conn);

        let mut progress = Vec::with_capacity(plan.items().len());
        let mut elapsed = Vec::with_capacity(plan.items().len());
        for item in plan.items() {
            let Some(f) = facts.get(item.code.as_str()) else {
                progress.push(Progress::NotStarted);
                elapsed.push(None);
                continue;
            };
            let closed = f.refused_at.is_some()
                || matches!(f.state.as_str(), "not_accepted" | "terminated" | "withdrawn" | "revoked");
            let until =
                (if f.granted { f.granted_at } else { f.refused_at }).or(closed.then_some(f.updated)).unwrap_or(now);
            let used = f.received.map(|r| {
                cal.elapsed_working_days_paused(r, until, pauses.get(&f.case_id).map_or(&[][..], Vec::as_slice))
            });
            progress.push(progress_of(
                &f.state,
                f.received.is_some(),
                f.granted,
                f.refused_at.is_some(),
                used.unwrap_or(0),
            ));
            elapsed.push(used);
        }
        let projection = plan.projection(&progress);
        let code = |i: usize| plan.items().get(i).map(|x| x.code.to_string()).unwrap_or_default();
        let views = plan
            .items()
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let f = facts.get(item.code.as_str());
                PlanItemView {
                    code: item.code.to_string(),
                    name: item.name.clone(),
                    stage: item.stage,
                    statutory_days: item.statutory_limit.get(),
                    promised_days: item.promised_limit.get(),
                    case_id: f.map(|f| f.case_id),
                    case_no: f.map(|f| f.case_no.clone()),
                    case_state_name: f.map(|f| f.state_name.clone()),
                    progress: progress[i],
                    elapsed_days: elapsed[i],
                    duration_days: projection.durations.get(i).copied().unwrap_or(0),
                    critical: projection.critical.items.contains(&i),
                    may_decide: plan.may_decide(i, &progress),
                    requires: plan.prerequisites(i).iter().map(|&p| code(p)).collect(),
                    waiting_for: plan.waiting_for(i, &progress).into_iter().map(code).collect(),
                    blocked: projection.blocked.contains(&i),
                }
            })
            .collect();
        // The project's clock: from the first acceptance of any of its items.
        let first = facts.values().filter_map(|f| f.received).min();
        let end = if projection.complete { facts.values().filter_map(|f| f.granted_at).max() } else { Some(now) };
        let elapsed_days = first.zip(end).map(|(a, b)| cal.elapsed_working_days(a, b.max(a)));
        Ok(PlanView {
            project,
            items: views,
            edges: plan.edges(),
            critical: projection.critical.items.iter().map(|&i| code(i)).collect(),
            projected_days: projection.critical.days,
            sequential_days: projection.sequential_days,
            target_days: projection.target_days,
            meets_target: projection.meets_target,
            complete: projection.complete,
            elapsed_days,
        })
    }

    /// The codes of the plan of project `id` in scope (for forms that pick among them).
    pub async fn plan_codes(&self, scope_: &Scope, id: i64) -> Result<Vec<String>> {
        let mut conn = self.pool().acquire().await?;
        project_in(&mut conn, scope_, id).await?;
        Ok(stored_plan(&mut conn, id).await?.0.into_iter().map(|(c, _)| c).collect())
    }

    /// The projects with a plan of enterprise `enterprise_id` in scope, as (id, name), for filing a
    /// case with its project selected.
    pub async fn planned_projects_of(&self, scope_: &Scope, enterprise_id: i64) -> Result<Vec<(i64, String)>> {
        let mut s = crate::sql::Sql::new(
            "SELECT p.id, p.name FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id \
             WHERE EXISTS (SELECT 1 FROM approval_plan_items i WHERE i.project_id = p.id) AND p.enterprise_id = ",
        );
        s.i64(enterprise_id);
        crate::scope::enterprises(&mut s, scope_);
        s.push(" ORDER BY p.id");
        s.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<_>>>()
            .map_err(|e: Error| e)
    }
}
