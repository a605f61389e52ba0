//! The JSON API of the approval plans of investment projects (`/api/v1/approval/projects/...`, 压茬审批).
//! Each calls the same store operation as its page (`pages/approval_projects.rs`); a change answers
//! with the plan as `GET` gives it, a refused plan with a 400 problem naming the items.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError};
use crate::form::ApiJson;
use crate::pages::approval_projects::{EdgeForm, ListQuery, attach_op, change_op};
use crate::pages::paging;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use dianxiaoer_store::{Page, PlanChange, PlanProjectRow, PlanView};
use serde::Deserialize;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Projects in the scope of their enterprises with their plans' counts: `q`, `all=1` (also
/// projects without a plan), paging.
pub async fn projects(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<PlanProjectRow>> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(state.store.approval_projects(&me.scope, &f, page, per_page).await?))
}

async fn plan_of(state: &AppState, me: &CurrentUser, id: i64) -> Result<PlanView, ApiError> {
    let cal = state.calendar().await?;
    Ok(state.store.approval_plan(&me.scope, id, &cal, state.now()).await?)
}

/// The plan: items with their cases and progress, edges, critical path and the figures.
pub async fn project(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<PlanView> {
    Ok(Json(plan_of(&state, &me, id).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ItemsBody {
    /// Catalogue item codes to add (with the default prerequisites that touch them).
    items: Vec<String>,
}

pub async fn add_items(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ItemsBody>,
) -> ApiResult<PlanView> {
    let items: Vec<String> = b.items.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
    if items.is_empty() {
        return Err(AppError::BadRequest("请在 items 中列出要加入计划的事项编码".into()).into());
    }
    change_op(&state, &me, id, &PlanChange::AddItems(items)).await?;
    Ok(Json(plan_of(&state, &me, id).await?))
}

/// Starts an empty plan from the typical project's items with the default prerequisites.
pub async fn default_plan(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<PlanView> {
    change_op(&state, &me, id, &PlanChange::AddItems(Vec::new())).await?;
    Ok(Json(plan_of(&state, &me, id).await?))
}

pub async fn remove_item(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path((id, code)): Path<(i64, String)>,
) -> ApiResult<PlanView> {
    change_op(&state, &me, id, &PlanChange::RemoveItem(code)).await?;
    Ok(Json(plan_of(&state, &me, id).await?))
}

pub async fn add_edge(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<EdgeForm>,
) -> ApiResult<PlanView> {
    change_op(&state, &me, id, &PlanChange::AddEdge(b.edge()?)).await?;
    Ok(Json(plan_of(&state, &me, id).await?))
}

pub async fn remove_edge(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<EdgeForm>,
) -> ApiResult<PlanView> {
    change_op(&state, &me, id, &PlanChange::RemoveEdge(b.edge()?)).await?;
    Ok(Json(plan_of(&state, &me, id).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AttachBody {
    case_id: Option<i64>,
}

pub async fn attach(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AttachBody>,
) -> ApiResult<PlanView> {
    let case_id = b.case_id.ok_or_else(|| AppError::BadRequest("请填写要关联的办件 case_id".into()))?;
    attach_op(&state, &me, id, case_id).await?;
    Ok(Json(plan_of(&state, &me, id).await?))
}
