//! The approval plans of investment projects (压茬审批; core: `approval/project_plan.rs`): which
//! catalogue items a project needs, their prerequisites, and the case filed for each item. A plan
//! hangs on the investment project (`investment_projects`) and is read and edited within the scope of
//! the project's enterprise, as its cases are. Every edit is one transaction: the project row is
//! touched first (so two edits on PostgreSQL are checked one after the other), the whole plan is
//! checked by the core's rules after the change, and the change is audited, or nothing is written.
//!
//! The gate: a decision (准予, 告知承诺准予, 不予) on a case that serves a plan item is refused while
//! a prerequisite is not granted, inside the decision's transaction ([`check_decision_gate`]).

use crate::approval::{corrupt, parse_item};
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::{Sql, paging_upto};
use crate::{Page, Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::Catalogue;
use dianxiaoer_core::approval::default_flow::{action, state};
use dianxiaoer_core::approval::project_plan::{Edge, Plan, default_edges, plan_items};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// `1` when case `c` holds a grant that stands: a 准予 event and not revoked since.
pub(crate) const GRANTED: &str = "CASE WHEN c.state <> 'revoked' AND EXISTS (SELECT 1 FROM approval_case_events ev \
    WHERE ev.case_id = c.id AND ev.action IN ('approve', 'approve_on_commitment')) THEN 1 ELSE 0 END";

/// The actions that decide a case, which wait for the prerequisites.
const DECISIONS: [&str; 3] = [action::APPROVE, action::APPROVE_ON_COMMITMENT, action::REFUSE];

/// An investment project with the state of its approval plan, for the list.
#[derive(Debug, Clone, Serialize)]
pub struct PlanProjectRow {
    pub id: i64,
    pub name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    /// Items in the plan.
    pub items: i64,
    /// Items with a case.
    pub filed: i64,
    /// Items granted.
    pub granted: i64,
}

/// Filters of the project list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Part of the project's or the enterprise's name.
    pub q: Option<String>,
    /// Also projects without a plan yet.
    pub all: bool,
}

/// The project a plan hangs on, read within scope.
#[derive(Debug, Clone, Serialize)]
pub struct PlanProject {
    pub id: i64,
    pub name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
}

const LIST: &str = "SELECT p.id, p.name, p.enterprise_id, e.name AS enterprise_name, \
    (SELECT COUNT(*) FROM approval_plan_items i WHERE i.project_id = p.id) AS items, \
    (SELECT COUNT(*) FROM approval_plan_items i WHERE i.project_id = p.id AND i.case_id IS NOT NULL) AS filed, \
    (SELECT COUNT(*) FROM approval_plan_items i JOIN approval_cases c ON c.id = i.case_id WHERE i.project_id = p.id \
     AND c.state <> 'revoked' AND EXISTS (SELECT 1 FROM approval_case_events ev WHERE ev.case_id = c.id \
     AND ev.action IN ('approve', 'approve_on_commitment'))) AS granted \
    FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id WHERE 1 = 1";
const COUNT: &str =
    "SELECT COUNT(*) FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id WHERE 1 = 1";

fn list_filters(s: &mut Sql, scope_: &Scope, f: &PlanFilter) {
    scope::enterprises(s, scope_);
    if !f.all {
        s.push(" AND EXISTS (SELECT 1 FROM approval_plan_items i WHERE i.project_id = p.id)");
    }
    if let Some(q) = &f.q {
        s.push(" AND (p.name LIKE ").like(q).push(" OR e.name LIKE ").like(q).push(")");
    }
}

fn list_row(r: &AnyRow) -> Result<PlanProjectRow> {
    Ok(PlanProjectRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        items: r.try_get("items")?,
        filed: r.try_get("filed")?,
        granted: r.try_get("granted")?,
    })
}

/// The project within the scope of its enterprise, or `NotFound`.
pub(crate) async fn project_in(conn: &mut AnyConnection, scope_: &Scope, id: i64) -> Result<PlanProject> {
    let mut s = Sql::new(
        "SELECT p.id, p.name, p.enterprise_id, e.name AS enterprise_name FROM investment_projects p \
         JOIN enterprises e ON e.id = p.enterprise_id WHERE p.id = ",
    );
    s.i64(id);
    scope::enterprises(&mut s, scope_);
    let r = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    Ok(PlanProject {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
    })
}

/// The active catalogue (every item's current version).
pub(crate) async fn active_catalogue(conn: &mut AnyConnection) -> Result<Catalogue> {
    let raw: Vec<String> = sqlx::query_scalar("SELECT item_json FROM approval_items WHERE active = 1 ORDER BY code")
        .fetch_all(&mut *conn)
        .await?;
    let items = raw.iter().map(|r| parse_item(r)).collect::<Result<Vec<_>>>()?;
    Catalogue::from_items(items).map_err(|e| corrupt(format!("catalogue: {e}")))
}

/// The stored plan of a project: item codes with their cases, and edges.
pub(crate) async fn stored_plan(
    conn: &mut AnyConnection,
    project_id: i64,
) -> Result<(Vec<(String, Option<i64>)>, Vec<Edge>)> {
    let items =
        sqlx::query("SELECT item_code, case_id FROM approval_plan_items WHERE project_id = $1 ORDER BY item_code")
            .bind(project_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<Option<i64>, _>(1)?)))
            .collect::<Result<Vec<_>>>()?;
    let edges = sqlx::query(
        "SELECT item_code, requires_code FROM approval_plan_edges WHERE project_id = $1 ORDER BY item_code, requires_code",
    )
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok(Edge::new(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?)))
    .collect::<Result<Vec<_>>>()?;
    Ok((items, edges))
}

/// Checks a plan of `codes` and `edges` by the core's rules against the active catalogue.
fn checked(catalogue: &Catalogue, codes: &[String], edges: &[Edge]) -> Result<Plan> {
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let items = plan_items(catalogue, &refs).map_err(|e| Error::Invalid(e.message))?;
    Plan::new(items, edges).map_err(|e| Error::Invalid(e.message))
}

/// Whether case `case_id` ended without a grant (so that another case may take its plan item).
async fn ended_without_grant(conn: &mut AnyConnection, case_id: i64) -> Result<bool> {
    let r = sqlx::query(&format!(
        "SELECT c.state, {GRANTED} AS granted, CASE WHEN EXISTS (SELECT 1 FROM approval_case_events ev \
         WHERE ev.case_id = c.id AND ev.action = 'refuse') THEN 1 ELSE 0 END AS refused \
         FROM approval_cases c WHERE c.id = $1"
    ))
    .bind(case_id)
    .fetch_one(&mut *conn)
    .await?;
    let st: String = r.try_get("state")?;
    let (granted, refused) = (r.try_get::<i64, _>("granted")? != 0, r.try_get::<i64, _>("refused")? != 0);
    let ended = [state::NOT_ACCEPTED, state::TERMINATED, state::WITHDRAWN, state::REVOKED].contains(&st.as_str());
    Ok(!granted && (refused || ended))
}

/// Links case `case_id` (of `item_code`, for `enterprise_id`) to its item in the plan of
/// `project_id`, which the caller has read within scope. Refused when the project belongs to another
/// enterprise, the plan lacks the item, or the item has a case that has not ended without a grant.
pub(crate) async fn link_case(
    tx: &mut Tx<'_>,
    project: &PlanProject,
    item_code: &str,
    enterprise_id: i64,
    case_id: i64,
) -> Result<()> {
    if project.enterprise_id != enterprise_id {
        return Err(Error::Invalid(format!("办件的申请企业不是项目“{}”的企业", project.name)));
    }
    let current: Option<Option<i64>> =
        sqlx::query_scalar("SELECT case_id FROM approval_plan_items WHERE project_id = $1 AND item_code = $2")
            .bind(project.id)
            .bind(item_code.to_string())
            .fetch_optional(&mut *tx.tx)
            .await?;
    let Some(current) = current else {
        return Err(Error::Invalid(format!(
            "项目“{}”的审批计划中没有事项{item_code}，请先在项目审批计划中加入该事项",
            project.name
        )));
    };
    match current {
        Some(c) if c == case_id => return Ok(()),
        Some(c) if !ended_without_grant(&mut tx.tx, c).await? => {
            let no: String = sqlx::query_scalar("SELECT case_no FROM approval_cases WHERE id = $1")
                .bind(c)
                .fetch_one(&mut *tx.tx)
                .await?;
            return Err(Error::Conflict(format!(
                "项目计划中的事项{item_code}已关联办件{no}；只有该办件未获准予而结束后才能改为关联其他办件"
            )));
        }
        _ => {}
    }
    // Conditional on the case read above, so that two filings at once cannot both take the item.
    let n = sqlx::query(
        "UPDATE approval_plan_items SET case_id = $1 WHERE project_id = $2 AND item_code = $3 \
         AND COALESCE(case_id, 0) = $4",
    )
    .bind(case_id)
    .bind(project.id)
    .bind(item_code.to_string())
    .bind(current.unwrap_or(0))
    .execute(&mut *tx.tx)
    .await
    .map_err(|e| Error::from(e).unique_as("该办件已关联到另一个项目的审批计划"))?
    .rows_affected();
    if n != 1 {
        return Err(Error::Conflict("项目审批计划已被他人修改，请刷新后重试".into()));
    }
    Ok(())
}

/// The plan item a case serves, with the prerequisites not granted yet.
#[derive(Debug, Clone, Serialize)]
pub struct CasePlanLink {
    pub project_id: i64,
    pub project_name: String,
    pub item_code: String,
    /// "名称（编码，状态）" of each prerequisite without a standing grant.
    pub waiting_for: Vec<String>,
}

/// The plan link of case `case_id`, if it serves a plan item.
async fn plan_link(conn: &mut AnyConnection, case_id: i64) -> Result<Option<CasePlanLink>> {
    let Some(row) = sqlx::query(
        "SELECT i.project_id, i.item_code, p.name FROM approval_plan_items i \
         JOIN investment_projects p ON p.id = i.project_id WHERE i.case_id = $1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let (project_id, item_code, project_name): (i64, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let rows = sqlx::query(&format!(
        "SELECT x.requires_code, COALESCE((SELECT a.name FROM approval_items a WHERE a.code = x.requires_code \
         AND a.active = 1), x.requires_code) AS name, c.state_name, {GRANTED} AS granted \
         FROM approval_plan_edges x LEFT JOIN approval_plan_items i ON i.project_id = x.project_id \
         AND i.item_code = x.requires_code LEFT JOIN approval_cases c ON c.id = i.case_id \
         WHERE x.project_id = $1 AND x.item_code = $2 ORDER BY x.requires_code"
    ))
    .bind(project_id)
    .bind(item_code.clone())
    .fetch_all(&mut *conn)
    .await?;
    let mut waiting_for = Vec::new();
    for r in &rows {
        if r.try_get::<Option<i64>, _>("granted")?.unwrap_or(0) != 0 {
            continue;
        }
        let code: String = r.try_get("requires_code")?;
        let name: String = r.try_get("name")?;
        let st: Option<String> = r.try_get("state_name")?;
        waiting_for.push(format!("{name}（{code}，{}）", st.unwrap_or_else(|| "尚未申请".into())));
    }
    Ok(Some(CasePlanLink { project_id, project_name, item_code, waiting_for }))
}

/// Refuses a decision on `case_id` while a prerequisite of its plan item is not granted, naming the
/// open prerequisites (module docs). Cases outside any plan and other actions pass.
pub(crate) async fn check_decision_gate(tx: &mut Tx<'_>, case_id: i64, action_code: &str) -> Result<()> {
    if !DECISIONS.contains(&action_code) {
        return Ok(());
    }
    match plan_link(&mut tx.tx, case_id).await? {
        Some(link) if !link.waiting_for.is_empty() => Err(Error::Refused(format!(
            "本办件属于项目“{}”的审批计划，前置事项尚未准予，暂不能作出决定（可先预审、受理和审查）：{}",
            link.project_name,
            link.waiting_for.join("、")
        ))),
        _ => Ok(()),
    }
}

/// A change to a plan.
#[derive(Debug, Clone)]
pub enum PlanChange {
    /// Adds items (by code) with the default edges that touch them; none: the typical project's
    /// items, only into an empty plan.
    AddItems(Vec<String>),
    RemoveItem(String),
    AddEdge(Edge),
    RemoveEdge(Edge),
}

impl Store {
    /// A page of the projects in the scope of their enterprises, with their plans' counts.
    pub async fn approval_projects(
        &self,
        scope_: &Scope,
        f: &PlanFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<PlanProjectRow>> {
        self.approval_projects_upto(scope_, f, page, per_page, crate::sql::PAGE_MAX).await
    }

    /// Every project `f` selects in scope, up to `max` (for the export).
    pub async fn export_approval_projects(
        &self,
        scope_: &Scope,
        f: &PlanFilter,
        max: i64,
    ) -> Result<Vec<PlanProjectRow>> {
        Ok(self.approval_projects_upto(scope_, f, 1, max, max).await?.items)
    }

    async fn approval_projects_upto(
        &self,
        scope_: &Scope,
        f: &PlanFilter,
        page: i64,
        per_page: i64,
        max: i64,
    ) -> Result<Page<PlanProjectRow>> {
        let (page, per_page, offset) = paging_upto(page, per_page, max);
        let mut count = Sql::new(COUNT);
        list_filters(&mut count, scope_, f);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(LIST);
        list_filters(&mut s, scope_, f);
        s.push(" ORDER BY p.id DESC LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let items = s.fetch_all(self.pool()).await?.iter().map(list_row).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Applies one change to the plan of project `project_id` (module docs). Invalid plans are refused
    /// with the core's message naming the items.
    pub async fn change_plan(
        &self,
        actor: &Actor,
        scope_: &Scope,
        project_id: i64,
        change: &PlanChange,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let project = project_in(&mut tx.tx, scope_, project_id).await?;
        sqlx::query("UPDATE investment_projects SET updated_at = updated_at WHERE id = $1")
            .bind(project_id)
            .execute(&mut *tx.tx)
            .await?;
        let catalogue = active_catalogue(&mut tx.tx).await?;
        let (items, edges) = stored_plan(&mut tx.tx, project_id).await?;
        let mut codes: Vec<String> = items.iter().map(|(c, _)| c.clone()).collect();
        let mut next = edges.clone();
        let detail = match change {
            PlanChange::AddItems(add) => {
                let add: Vec<String> = if add.is_empty() {
                    if !codes.is_empty() {
                        return Err(Error::Refused("计划中已有事项；默认计划只用于尚无事项的项目".into()));
                    }
                    dianxiaoer_core::approval::project_plan::TYPICAL.iter().map(|c| (*c).to_owned()).collect()
                } else {
                    add.iter().map(|c| c.trim().to_owned()).collect()
                };
                for code in &add {
                    if codes.contains(code) {
                        return Err(Error::Invalid(format!("事项{code}已在计划中")));
                    }
                }
                codes.extend(add.iter().cloned());
                let all = checked(&catalogue, &codes, &[])?;
                let new: Vec<Edge> = default_edges(all.items())
                    .into_iter()
                    .filter(|e| (add.contains(&e.item) || add.contains(&e.requires)) && !next.contains(e))
                    .collect();
                next.extend(new);
                json!({"add_items": add})
            }
            PlanChange::RemoveItem(code) => {
                let code = code.trim();
                let before = codes.len();
                codes.retain(|c| c != code);
                if codes.len() == before {
                    return Err(Error::NotFound);
                }
                next.retain(|e| e.item != code && e.requires != code);
                json!({"remove_item": code})
            }
            PlanChange::AddEdge(e) => {
                if next.contains(e) {
                    return Err(Error::Invalid("该前置关系已存在".into()));
                }
                next.push(e.clone());
                json!({"add_edge": e})
            }
            PlanChange::RemoveEdge(e) => {
                let before = next.len();
                next.retain(|x| x != e);
                if next.len() == before {
                    return Err(Error::NotFound);
                }
                json!({"remove_edge": e})
            }
        };
        let plan = checked(&catalogue, &codes, &next)?;
        self.write_plan(&mut tx, project_id, &items, &edges, &plan, now).await?;
        let entry = AuditEntry::ok("change_approval_plan", "investment_project", project_id)
            .detail(json!({"project": project.name, "change": detail}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Writes the difference between the stored plan and `plan`.
    async fn write_plan(
        &self,
        tx: &mut Tx<'_>,
        project_id: i64,
        items: &[(String, Option<i64>)],
        edges: &[Edge],
        plan: &Plan,
        now: i64,
    ) -> Result<()> {
        let wanted = plan.edges();
        for e in edges.iter().filter(|e| !wanted.contains(e)) {
            sqlx::query(
                "DELETE FROM approval_plan_edges WHERE project_id = $1 AND item_code = $2 AND requires_code = $3",
            )
            .bind(project_id)
            .bind(e.item.clone())
            .bind(e.requires.clone())
            .execute(&mut *tx.tx)
            .await?;
        }
        for (code, _) in items.iter().filter(|(c, _)| plan.index(c).is_none()) {
            sqlx::query("DELETE FROM approval_plan_items WHERE project_id = $1 AND item_code = $2")
                .bind(project_id)
                .bind(code.clone())
                .execute(&mut *tx.tx)
                .await?;
        }
        for item in plan.items().iter().filter(|i| !items.iter().any(|(c, _)| c == i.code.as_str())) {
            sqlx::query("INSERT INTO approval_plan_items (project_id, item_code, created_at) VALUES ($1, $2, $3)")
                .bind(project_id)
                .bind(item.code.as_str().to_string())
                .bind(now)
                .execute(&mut *tx.tx)
                .await?;
        }
        for e in wanted.iter().filter(|e| !edges.contains(e)) {
            sqlx::query("INSERT INTO approval_plan_edges (project_id, item_code, requires_code) VALUES ($1, $2, $3)")
                .bind(project_id)
                .bind(e.item.clone())
                .bind(e.requires.clone())
                .execute(&mut *tx.tx)
                .await?;
        }
        Ok(())
    }

    /// The plan item case `case_id` (in scope) serves, with its open prerequisites.
    pub async fn case_plan(&self, scope_: &Scope, case_id: i64) -> Result<Option<CasePlanLink>> {
        self.case(scope_, case_id).await?;
        let mut conn = self.pool().acquire().await?;
        plan_link(&mut conn, case_id).await
    }

    /// Links an existing case in scope to its item in the plan of project `project_id` (a case filed
    /// before the plan existed, or a new application after one ended without a grant).
    pub async fn attach_plan_case(
        &self,
        actor: &Actor,
        scope_: &Scope,
        project_id: i64,
        case_id: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let project = project_in(&mut tx.tx, scope_, project_id).await?;
        sqlx::query("UPDATE investment_projects SET updated_at = updated_at WHERE id = $1")
            .bind(project_id)
            .execute(&mut *tx.tx)
            .await?;
        let case = crate::approval_cases::case_in(&mut tx, scope_, case_id).await?;
        link_case(&mut tx, &project, &case.item_code, case.enterprise_id, case_id).await?;
        let entry = AuditEntry::ok("attach_plan_case", "investment_project", project_id)
            .detail(json!({"project": project.name, "case_no": case.case_no, "item": case.item_code}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}
