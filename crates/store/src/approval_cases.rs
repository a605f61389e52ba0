//! Approval cases (办件): filing, reading, the inbox and lists, always through the caller's scope
//! (the enterprise's: an enterprise user sees its own cases, a grid officer its grid's, staff and
//! leadership all). Actions on a case are in `approval_actions.rs`.

use crate::approval::{corrupt, parse_flow, parse_item};
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::{Sql, paging_upto};
use crate::{Page, Store, Tx, scope};
use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::case::{actors_in, case_no, check_filing};
use dianxiaoer_core::approval::{Date, Pause};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The one who reads or acts: the audit identity, the role (the workflow's actor) and the scope.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub actor: &'a Actor,
    pub role: Role,
    pub scope: &'a Scope,
}

impl Caller<'_> {
    pub(crate) fn user_id(&self) -> i64 {
        self.actor.user_id.unwrap_or(-1)
    }

    /// Whether the caller acts as the applicant of `case`: the enterprise's own user (scope keeps
    /// other enterprises' cases out of reach), or the one who filed it on the enterprise's behalf.
    pub fn is_applicant(&self, case: &CaseRow) -> bool {
        self.role == Role::EnterpriseUser || (case.agency && case.applicant_id == self.user_id())
    }
}

/// A case as stored, with its enterprise's and filer's names.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub case_no: String,
    pub item_code: String,
    pub item_version: i64,
    pub item_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub applicant_id: i64,
    pub applicant_name: String,
    /// Filed by staff or a grid officer on the enterprise's behalf (帮代办).
    pub agency: bool,
    pub state: String,
    pub state_name: String,
    /// Who may act in the current state: role codes and `applicant`.
    pub actors: Vec<String>,
    pub materials: Vec<String>,
    /// Non-key materials still to be supplied (容缺受理).
    pub missing: Vec<String>,
    /// The promised limit of the item version, in working days.
    pub limit_days: i64,
    /// Acceptance: when the clock started.
    pub received_at: Option<i64>,
    /// "YYYY-MM-DD"; moves back when a 补正 pause ends.
    pub deadline: Option<String>,
    /// Start of the running 补正 pause.
    pub paused_ms: Option<i64>,
    pub note: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who took the case or was assigned it (认领、指派), with the role they act in.
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub assignee_role: Option<String>,
}

impl CaseRow {
    /// Whether the deadline has passed on `today` while the clock runs.
    pub fn overdue(&self, today: Date) -> bool {
        self.paused_ms.is_none()
            && self.deadline.as_deref().and_then(|d| Date::parse(d).ok()).is_some_and(|d| today > d)
            && !self.actors.is_empty()
    }
}

/// One transition (or the filing) of a case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// `applicant` or the role code the action was taken as.
    pub actor_role: String,
    pub action: String,
    pub action_name: String,
    pub from_state: String,
    pub to_state: String,
    pub comment: String,
    /// Working days left of the limit at that moment, once the clock had started.
    pub sla_left_days: Option<i64>,
}

/// A new case, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub item_code: String,
    pub enterprise_id: i64,
    /// Names of the materials handed in, as in the guide.
    pub materials: Vec<String>,
    pub note: String,
    /// The investment project whose approval plan the case serves (压茬审批), if any: the case is
    /// linked to the plan's item of the same code.
    pub project_id: Option<i64>,
}

/// Filters of the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only the cases waiting for the caller (待办).
    pub inbox: bool,
    /// Whom the case is assigned to.
    pub assigned: Assigned,
    pub state: Option<String>,
    pub item: Option<String>,
    /// Part of the enterprise's name or of the case number.
    pub q: Option<String>,
    pub enterprise_id: Option<i64>,
}

/// The assignment filter of the case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Assigned {
    #[default]
    Any,
    /// Taken by or assigned to the caller (我承办的).
    ToMe,
    /// Taken by nobody yet (待认领).
    Nobody,
}

pub(crate) const SELECT: &str = "SELECT c.id, c.case_no, c.item_code, c.item_version, c.item_name, c.enterprise_id, \
    e.name AS enterprise_name, c.applicant_id, u.display_name AS applicant_name, c.agency, c.state, c.state_name, \
    c.actors, c.materials, c.missing, c.limit_days, c.received_at, c.deadline, c.paused_ms, c.note, c.created_at, \
    c.updated_at, c.assignee_id, c.assignee_name, c.assignee_role FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id \
    JOIN users u ON u.id = c.applicant_id WHERE 1 = 1";

const COUNT: &str = "SELECT COUNT(*) FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id WHERE 1 = 1";

pub(crate) fn names(raw: &str) -> Result<Vec<String>> {
    serde_json::from_str(raw).map_err(|e| corrupt(format!("names: {e}")))
}

pub(crate) fn names_json(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "[]".into())
}

/// `,a,b,` for the inbox's LIKE.
pub(crate) fn actors_text(actors: &[&str]) -> String {
    if actors.is_empty() { String::new() } else { format!(",{},", actors.join(",")) }
}

/// Material names as handed in: trimmed, blanks dropped, each once, in order.
pub fn clean_names(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in raw.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_owned());
        }
    }
    out
}

pub(crate) fn case_row(r: &AnyRow) -> Result<CaseRow> {
    let actors: String = r.try_get("actors")?;
    Ok(CaseRow {
        id: r.try_get("id")?,
        case_no: r.try_get("case_no")?,
        item_code: r.try_get("item_code")?,
        item_version: r.try_get("item_version")?,
        item_name: r.try_get("item_name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        applicant_id: r.try_get("applicant_id")?,
        applicant_name: r.try_get("applicant_name")?,
        agency: r.try_get::<i64, _>("agency")? != 0,
        state: r.try_get("state")?,
        state_name: r.try_get("state_name")?,
        actors: actors.split(',').filter(|a| !a.is_empty()).map(str::to_owned).collect(),
        materials: names(&r.try_get::<String, _>("materials")?)?,
        missing: names(&r.try_get::<String, _>("missing")?)?,
        limit_days: r.try_get("limit_days")?,
        received_at: r.try_get("received_at")?,
        deadline: r.try_get("deadline")?,
        paused_ms: r.try_get("paused_ms")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        assignee_role: r.try_get("assignee_role")?,
    })
}

pub(crate) fn event_row(r: &AnyRow) -> Result<CaseEvent> {
    Ok(CaseEvent {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        actor_name: r.try_get("actor_name")?,
        actor_role: r.try_get("actor_role")?,
        action: r.try_get("action")?,
        action_name: r.try_get("action_name")?,
        from_state: r.try_get("from_state")?,
        to_state: r.try_get("to_state")?,
        comment: r.try_get("comment")?,
        sla_left_days: r.try_get("sla_left_days")?,
    })
}

fn filters(s: &mut Sql, caller: &Caller<'_>, f: &CaseFilter) {
    scope::enterprises(s, caller.scope);
    match f.assigned {
        Assigned::Any => {}
        Assigned::ToMe => {
            s.push(" AND c.assignee_id = ").i64(caller.user_id());
        }
        Assigned::Nobody => {
            s.push(" AND c.assignee_id IS NULL");
        }
    }
    if f.inbox {
        // A case taken by someone of the caller's role is in the taker's inbox alone.
        s.push(" AND ((c.actors LIKE ").text(format!("%,{},%", caller.role.code()));
        s.push(" AND (c.assignee_id IS NULL OR c.assignee_role <> ").text(caller.role.code());
        s.push(" OR c.assignee_id = ").i64(caller.user_id()).push("))");
        s.push(" OR (c.actors LIKE '%,applicant,%'");
        if caller.role != Role::EnterpriseUser {
            s.push(" AND c.agency = 1 AND c.applicant_id = ").i64(caller.user_id());
        }
        s.push(")");
        // Leadership also sees the open cases the escalation job reported to it (超期督办).
        if caller.role == Role::Leader {
            s.push(
                " OR (c.actors <> '' AND c.completed_at IS NULL \
                 AND EXISTS (SELECT 1 FROM approval_escalations x WHERE x.case_id = c.id AND x.level <> 'remind'))",
            );
        }
        s.push(")");
    }
    if let Some(st) = &f.state {
        s.push(" AND c.state = ").text(st.clone());
    }
    if let Some(item) = &f.item {
        s.push(" AND c.item_code = ").text(item.clone());
    }
    if let Some(q) = &f.q {
        s.push(" AND (e.name LIKE ").like(q).push(" OR c.case_no LIKE ").like(q).push(")");
    }
    if let Some(id) = f.enterprise_id {
        s.push(" AND c.enterprise_id = ").i64(id);
    }
}

/// Reads a case in scope inside a transaction.
pub(crate) async fn case_in(tx: &mut Tx<'_>, scope_: &Scope, id: i64) -> Result<CaseRow> {
    let mut s = Sql::new(SELECT);
    scope::enterprises(&mut s, scope_);
    s.push(" AND c.id = ").i64(id);
    s.query().fetch_optional(&mut *tx.tx).await?.as_ref().map(case_row).transpose()?.ok_or(Error::NotFound)
}

/// The pauses of a case, oldest first.
pub(crate) async fn pauses_in(tx: &mut Tx<'_>, case_id: i64) -> Result<Vec<Pause>> {
    let rows = sqlx::query("SELECT from_ms, until_ms FROM approval_case_pauses WHERE case_id = $1 ORDER BY id")
        .bind(case_id)
        .fetch_all(&mut *tx.tx)
        .await?;
    rows.iter()
        .map(|r| Pause::new(r.try_get(0)?, r.try_get(1)?).map_err(|e| corrupt(format!("pause of {case_id}: {e}"))))
        .collect()
}

/// Records one event of a case.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_event(
    tx: &mut Tx<'_>,
    case_id: i64,
    actor: &Actor,
    actor_role: &str,
    (action, action_name): (&str, &str),
    (from, to): (&str, &str),
    comment: &str,
    sla_left: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO approval_case_events (case_id, at, actor_id, actor_name, actor_role, action, action_name, \
         from_state, to_state, comment, sla_left_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(case_id)
    .bind(now)
    .bind(actor.user_id)
    .bind(actor.username.clone())
    .bind(actor_role.to_string())
    .bind(action.to_string())
    .bind(action_name.to_string())
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(comment.to_string())
    .bind(sla_left)
    .execute(&mut *tx.tx)
    .await?;
    if from == to {
        return Ok(());
    }
    // Documents uploaded since the last transition came with this one.
    sqlx::query(
        "UPDATE approval_documents SET event_id = (SELECT MAX(id) FROM approval_case_events WHERE case_id = $1) \
         WHERE case_id = $1 AND event_id IS NULL",
    )
    .bind(case_id)
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

impl Store {
    /// Files a case (a draft, or whatever the flow's initial state is) for an enterprise in the
    /// caller's scope, under the item's current version. The materials must pass the filing check:
    /// no key material missing, and non-key ones only where the item allows 容缺受理.
    pub async fn create_case(&self, caller: &Caller<'_>, new: &NewCase, now: i64) -> Result<CaseRow> {
        let materials = clean_names(&new.materials);
        let mut tx = self.begin().await?;
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE e.id = ");
        check.i64(new.enterprise_id);
        scope::enterprises(&mut check, caller.scope);
        let visible: i64 = check.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        if visible == 0 {
            return Err(Error::NotFound);
        }
        let item_json: Option<String> =
            sqlx::query_scalar("SELECT item_json FROM approval_items WHERE code = $1 AND active = 1")
                .bind(new.item_code.trim().to_string())
                .fetch_optional(&mut *tx.tx)
                .await?;
        let item = parse_item(&item_json.ok_or_else(|| Error::Invalid("审批事项不存在或已停用".into()))?)?;
        let missing = check_filing(&item, &materials).map_err(Error::Refused)?;
        let flow_json: String =
            sqlx::query_scalar("SELECT flow_json FROM approval_workflows WHERE item_code = $1 AND item_version = $2")
                .bind(item.code.as_str().to_string())
                .bind(i64::from(item.version))
                .fetch_one(&mut *tx.tx)
                .await?;
        let flow = parse_flow(&flow_json)?;
        let initial = flow.initial_state().ok_or_else(|| corrupt(format!("flow of {} has no initial", item.code)))?;
        let year = i64::from(Date::from_ms(now).year());
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO approval_counters (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = approval_counters.last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *tx.tx)
        .await?;
        let no = case_no(Date::from_ms(now).year(), seq);
        let agency = caller.role != Role::EnterpriseUser;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO approval_cases (case_no, item_code, item_version, item_name, enterprise_id, applicant_id, \
             agency, state, state_name, actors, materials, missing, limit_days, note, created_at, updated_at, \
             category, department, statutory_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             RETURNING id",
        )
        .bind(no.clone())
        .bind(item.code.as_str().to_string())
        .bind(i64::from(item.version))
        .bind(item.name.trim().to_string())
        .bind(new.enterprise_id)
        .bind(caller.user_id())
        .bind(i64::from(agency))
        .bind(initial.code.clone())
        .bind(initial.name.clone())
        .bind(actors_text(&actors_in(&flow, &initial.code)))
        .bind(names_json(&materials))
        .bind(names_json(&missing))
        .bind(i64::from(item.promised_limit.get()))
        .bind(new.note.trim().to_string())
        .bind(now)
        .bind(now)
        .bind(crate::approval::category_code(item.category).to_string())
        .bind(item.department.trim().to_string())
        .bind(i64::from(item.statutory_limit.get()))
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| Error::from(e).unique_as("办件编号冲突，请重试"))?;
        if let Some(project_id) = new.project_id {
            let project = crate::approval_projects::project_in(&mut tx.tx, caller.scope, project_id).await?;
            crate::approval_projects::link_case(&mut tx, &project, item.code.as_str(), new.enterprise_id, id).await?;
        }
        let role = if agency { caller.role.code() } else { "applicant" };
        let name = if agency { "帮代办申请" } else { "申请" };
        insert_event(&mut tx, id, caller.actor, role, ("file", name), ("", &initial.code), "", None, now).await?;
        let entry = AuditEntry::ok("create_approval_case", "approval_case", id).detail(json!({
            "case_no": no, "item": item.version_key().to_string(), "enterprise_id": new.enterprise_id,
            "agency": agency, "materials": materials.len(), "missing": missing, "project_id": new.project_id,
        }));
        self.audit(&mut tx, caller.actor, entry, now).await?;
        let row = case_in(&mut tx, caller.scope, id).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// A case in the caller's scope, or `NotFound`.
    pub async fn case(&self, scope_: &Scope, id: i64) -> Result<CaseRow> {
        let mut s = Sql::new(SELECT);
        scope::enterprises(&mut s, scope_);
        s.push(" AND c.id = ").i64(id);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(case_row).transpose()?.ok_or(Error::NotFound)
    }

    /// The events of a case in scope, oldest first.
    pub async fn case_events(&self, scope_: &Scope, id: i64) -> Result<Vec<CaseEvent>> {
        self.case(scope_, id).await?;
        let rows = sqlx::query(
            "SELECT id, at, actor_id, actor_name, actor_role, action, action_name, from_state, to_state, comment, \
             sla_left_days FROM approval_case_events WHERE case_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_row).collect()
    }

    /// The pauses of a case in scope, oldest first.
    pub async fn case_pauses(&self, scope_: &Scope, id: i64) -> Result<Vec<Pause>> {
        self.case(scope_, id).await?;
        let rows = sqlx::query("SELECT from_ms, until_ms FROM approval_case_pauses WHERE case_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Pause::new(r.try_get(0)?, r.try_get(1)?).map_err(|e| corrupt(format!("pause of {id}: {e}"))))
            .collect()
    }

    /// A page of the cases in scope matching `f`: the inbox by deadline (soonest first, not yet
    /// accepted last), everything else newest first.
    pub async fn list_cases(
        &self,
        caller: &Caller<'_>,
        f: &CaseFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<CaseRow>> {
        self.cases_upto(caller, f, page, per_page, crate::sql::PAGE_MAX).await
    }

    /// Every case in scope matching `f`, up to `max` (for exports).
    pub async fn export_cases(&self, caller: &Caller<'_>, f: &CaseFilter, max: i64) -> Result<Vec<CaseRow>> {
        Ok(self.cases_upto(caller, f, 1, max, max).await?.items)
    }

    async fn cases_upto(
        &self,
        caller: &Caller<'_>,
        f: &CaseFilter,
        page: i64,
        per_page: i64,
        max: i64,
    ) -> Result<Page<CaseRow>> {
        let (page, per_page, offset) = paging_upto(page, per_page, max);
        let mut count = Sql::new(COUNT);
        filters(&mut count, caller, f);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(SELECT);
        filters(&mut s, caller, f);
        s.push(if f.inbox {
            " ORDER BY CASE WHEN c.deadline IS NULL THEN 1 ELSE 0 END, c.deadline, c.id"
        } else {
            " ORDER BY c.id DESC"
        });
        s.push(" LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let items = s.fetch_all(self.pool()).await?.iter().map(case_row).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// How many cases wait for the caller (the home page and the navigation).
    pub async fn count_inbox(&self, caller: &Caller<'_>) -> Result<i64> {
        let mut s = Sql::new(COUNT);
        filters(&mut s, caller, &CaseFilter { inbox: true, ..CaseFilter::default() });
        Ok(s.count(self.pool()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_actors_framed() {
        let raw = vec![" 章程 ".to_owned(), String::new(), "章程".to_owned(), "申请书".to_owned()];
        assert_eq!(clean_names(&raw), ["章程", "申请书"]);
        assert_eq!(actors_text(&["applicant", "grid_officer"]), ",applicant,grid_officer,");
        assert_eq!(actors_text(&[]), "");
        assert_eq!(names(&names_json(&clean_names(&raw))).ok(), Some(vec!["章程".to_owned(), "申请书".to_owned()]));
    }
}
