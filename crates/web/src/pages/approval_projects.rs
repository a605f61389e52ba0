//! The approval plans of investment projects (压茬审批): the list with its Excel export, and the
//! project page — the four stages as columns, each item's case, state and working days, the critical
//! path, the elapsed days against the sequential sum and the 120-day target, and the forms that add
//! and remove items and prerequisites and attach cases. The JSON API (`api_approval_projects.rs`)
//! calls the same operations.

use super::{nonempty, paging, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::approval::ConstructionStage;
use dianxiaoer_core::approval::project_plan::Edge;
use dianxiaoer_store::{CaseFilter, ItemFilter, Page, PlanChange, PlanFilter, PlanProjectRow, PlanView};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    /// `1`: also projects without a plan.
    pub all: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    pub fn filter(&self) -> Result<PlanFilter, AppError> {
        let q = nonempty(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()));
        }
        Ok(PlanFilter { q, all: self.all.as_deref() == Some("1") })
    }

    fn base(&self) -> String {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        query_string(&[("q", &s(&self.q)), ("all", &s(&self.all))])
    }
}

#[derive(Template)]
#[template(path = "approval_projects.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<PlanProjectRow>,
    pager: Pager,
    q: ListQuery,
    export: String,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = state.store.approval_projects(&me.scope, &f, page, per_page).await?;
    let base = q.base();
    render(&ListPage {
        chrome: Chrome::new(&me, "/approval/projects", "项目审批（压茬审批）"),
        pager: Pager::new(&rows, base.clone()),
        rows,
        q,
        export: base,
    })
}

/// Most rows one export may hold.
const EXPORT_MAX: i64 = 100_000;

const EXPORT_HEADERS: [(&str, f64); 5] =
    [("项目名称", 34.0), ("企业名称", 30.0), ("计划事项数", 12.0), ("已申请", 10.0), ("已准予", 10.0)];

/// Exports what the filters select, within scope; audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let rows = state.store.export_approval_projects(&me.scope, &f, EXPORT_MAX).await?;
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || {
        workbook(
            "项目审批",
            &EXPORT_HEADERS,
            rows.iter().map(|r| {
                vec![
                    Cell::Text(r.name.clone()),
                    Cell::Text(r.enterprise_name.clone()),
                    Cell::Int(r.items),
                    Cell::Int(r.filed),
                    Cell::Int(r.granted),
                ]
            }),
        )
    })
    .await
    .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry =
        dianxiaoer_store::AuditEntry::ok("export", "approval_plan", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "approval-projects.xlsx"))
}

/// A case of the project's enterprise that may be attached to a plan item.
pub struct Candidate {
    pub id: i64,
    pub label: String,
}

#[derive(Template)]
#[template(path = "approval_project.html")]
struct DetailPage {
    chrome: Chrome,
    plan: PlanView,
    stages: [ConstructionStage; 4],
    /// Catalogue items of a construction stage not in the plan yet, as (code, label).
    addable: Vec<(String, String)>,
    candidates: Vec<Candidate>,
    can_edit: bool,
    can_file: bool,
    can_revenue: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    ok: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    detail_page(&state, &me, id, q.ok.as_deref(), None).await
}

async fn detail_page(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    ok: Option<&str>,
    error: Option<AppError>,
) -> Result<Response, PageError> {
    let cal = state.calendar().await?;
    let plan = state.store.approval_plan(&me.scope, id, &cal, state.now()).await?;
    let can_edit = permits(me.user.role, Permission::FileApplications);
    let mut addable = Vec::new();
    let mut candidates = Vec::new();
    if can_edit {
        for item in state.store.approval_items(&ItemFilter::default()).await? {
            if let Some(stage) = item.stage
                && !plan.items.iter().any(|i| i.code == item.code.as_str())
            {
                addable.push((item.code.to_string(), format!("{} · {}（{}）", stage.label(), item.name, item.code)));
            }
        }
        let f = CaseFilter { enterprise_id: Some(plan.project.enterprise_id), ..CaseFilter::default() };
        let cases =
            super::approval_cases::with_caller!(me, |caller| state.store.export_cases(&caller, &f, 500).await?);
        for c in cases {
            let in_plan = plan.items.iter().any(|i| i.code == c.item_code && i.case_id != Some(c.id));
            if in_plan {
                candidates
                    .push(Candidate {
                        id: c.id, label: format!("{} {}（{}）", c.case_no, c.item_name, c.state_name)
                    });
            }
        }
    }
    let status = error.as_ref().map(AppError::status);
    let mut resp = render(&DetailPage {
        chrome: Chrome::new(me, "/approval/projects", "项目审批（压茬审批）").notice(ok),
        plan,
        stages: ConstructionStage::ALL,
        addable,
        candidates,
        can_edit,
        can_file: can_edit,
        can_revenue: permits(me.user.role, Permission::ReadRevenue),
        error: error.map(|e| e.detail()),
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

/// A change to the plan (page and API).
pub async fn change_op(state: &AppState, me: &CurrentUser, id: i64, change: &PlanChange) -> Result<(), AppError> {
    Ok(state.store.change_plan(&me.actor(), &me.scope, id, change, state.now()).await?)
}

/// Attaches a case to its plan item (page and API).
pub async fn attach_op(state: &AppState, me: &CurrentUser, id: i64, case_id: i64) -> Result<(), AppError> {
    Ok(state.store.attach_plan_case(&me.actor(), &me.scope, id, case_id, state.now()).await?)
}

/// Shows the outcome: back to the page, or the page again with a refusal the user can act on.
async fn after(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    outcome: Result<(), AppError>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/approval/projects/{id}?ok=saved"))),
        Err(e @ (AppError::BadRequest(_) | AppError::Unprocessable(_) | AppError::Conflict(_))) => {
            detail_page(state, me, id, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The item form: one or more `item` fields.
pub fn items_of(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().filter(|(k, v)| k == "item" && !v.trim().is_empty()).map(|(_, v)| v.trim().to_owned()).collect()
}

pub async fn add_items(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let items = items_of(&pairs);
    let outcome = if items.is_empty() {
        Err(AppError::BadRequest("请选择要加入计划的事项".into()))
    } else {
        change_op(&state, &me, id, &PlanChange::AddItems(items)).await
    };
    after(&state, &me, id, outcome).await
}

/// Starts an empty plan from the typical project's items with the default prerequisites.
pub async fn default_plan(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let outcome = change_op(&state, &me, id, &PlanChange::AddItems(Vec::new())).await;
    after(&state, &me, id, outcome).await
}

pub async fn remove_item(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let outcome = change_op(&state, &me, id, &PlanChange::RemoveItem(code)).await;
    after(&state, &me, id, outcome).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EdgeForm {
    pub item: String,
    pub requires: String,
}

impl EdgeForm {
    pub fn edge(&self) -> Result<Edge, AppError> {
        if self.item.trim().is_empty() || self.requires.trim().is_empty() {
            return Err(AppError::BadRequest("请选择事项及其前置事项".into()));
        }
        Ok(Edge::new(&self.item, &self.requires))
    }
}

pub async fn add_edge(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<EdgeForm>,
) -> Result<Response, PageError> {
    let outcome = match f.edge() {
        Ok(e) => change_op(&state, &me, id, &PlanChange::AddEdge(e)).await,
        Err(e) => Err(e),
    };
    after(&state, &me, id, outcome).await
}

pub async fn remove_edge(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<EdgeForm>,
) -> Result<Response, PageError> {
    let outcome = match f.edge() {
        Ok(e) => change_op(&state, &me, id, &PlanChange::RemoveEdge(e)).await,
        Err(e) => Err(e),
    };
    after(&state, &me, id, outcome).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AttachForm {
    pub case_id: String,
}

pub async fn attach(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<AttachForm>,
) -> Result<Response, PageError> {
    let outcome = match f.case_id.trim().parse::<i64>() {
        Ok(case_id) => attach_op(&state, &me, id, case_id).await,
        Err(_) => Err(AppError::BadRequest("请选择要关联的办件".into())),
    };
    after(&state, &me, id, outcome).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_parsed() {
        let pairs: Vec<(String, String)> = [("item", " 371323-GH-001 "), ("item", ""), ("_csrf", "x")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(items_of(&pairs), ["371323-GH-001"]);
        assert!(EdgeForm::default().edge().is_err());
        let e = EdgeForm { item: "a".into(), requires: " b".into() }.edge().unwrap();
        assert_eq!((e.item.as_str(), e.requires.as_str()), ("a", "b"));
        assert!(ListQuery { q: Some("项".repeat(61)), ..Default::default() }.filter().is_err());
        assert!(ListQuery { all: Some("1".into()), ..Default::default() }.filter().unwrap().all);
    }
}
