//! The approval part of the JSON API (`/api/v1/approval/...`): the catalogue, editing an item (a new
//! version), filing cases, the case list and inbox, a case with its actions and timeline, and taking
//! an action. Each calls the same operation as its page; refusals are RFC 9457 problems (403 when the
//! workflow does not let the role act, 422 when the case's state or materials do not allow it).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError};
use crate::form::ApiJson;
use crate::pages::approval_cases::{CaseDetail, CaseQuery, act, detail_of, with_caller};
use crate::pages::approval_filing::file;
use crate::pages::approval_items::publish;
use crate::pages::guide::parse_category;
use crate::pages::paging;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use dianxiaoer_core::approval::{ApprovalItem, Workflow};
use dianxiaoer_core::text;
use dianxiaoer_store::{ActionInput, CaseRow, ItemFilter, ItemVersionRow, NewCase, Page};
use serde::{Deserialize, Serialize};

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Deserialize)]
pub struct ItemsQuery {
    q: Option<String>,
    category: Option<String>,
}

/// The current version of every item (filters: `q`, `category`).
pub async fn items(State(state): State<AppState>, Query(q): Query<ItemsQuery>) -> ApiResult<Vec<ApprovalItem>> {
    let category = parse_category(q.category.as_deref())?;
    Ok(Json(state.store.approval_items(&ItemFilter { q: q.q, category }).await?))
}

#[derive(Deserialize)]
pub struct VersionQuery {
    version: Option<i64>,
}

#[derive(Serialize)]
pub struct ItemAnswer {
    item: ApprovalItem,
    active: bool,
    workflow: Workflow,
    versions: Vec<ItemVersionRow>,
}

/// One item: the current version, or `?version=N`, with its workflow and the list of versions.
pub async fn item(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<ItemAnswer> {
    let row = match q.version {
        Some(v) => state.store.approval_item_version(&code, v).await?,
        None => state.store.approval_item(&code).await?,
    };
    let workflow = state.store.approval_workflow(row.item.code.as_str(), i64::from(row.item.version)).await?;
    let versions = state.store.approval_item_versions(row.item.code.as_str()).await?;
    Ok(Json(ItemAnswer { item: row.item, active: row.active, workflow, versions }))
}

/// Publishes an edited item as its next version. The body is the item as read, edited; its `version`
/// names the version the edit is based on (a stale one is a 409).
pub async fn revise_item(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(code): Path<String>,
    ApiJson(edited): ApiJson<ApprovalItem>,
) -> Result<Response, ApiError> {
    if edited.code.as_str() != code.trim() {
        return Err(AppError::BadRequest("请求体中的事项编码与地址中的不一致".into()).into());
    }
    let base = edited.version;
    let item = publish(&state, &me, base, edited).await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

#[derive(Deserialize)]
pub struct WorkflowBody {
    base_version: u32,
    workflow: Workflow,
}

/// Publishes a configured workflow with the item's next version (201 with the item and its flow).
pub async fn configure_workflow(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<WorkflowBody>,
) -> Result<Response, ApiError> {
    let (item, workflow) =
        crate::pages::approval_workflow::publish(&state, &me, code.trim(), b.base_version, b.workflow).await?;
    let versions = state.store.approval_item_versions(item.code.as_str()).await?;
    Ok((StatusCode::CREATED, Json(ItemAnswer { item, active: true, workflow, versions })).into_response())
}

/// Cases in scope: `box=inbox` (default, waiting for the caller) or `all`; `state`, `item`, `q`,
/// `enterprise`, paging.
pub async fn cases(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<CaseQuery>,
) -> ApiResult<Page<CaseRow>> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(with_caller!(me, |caller| state.store.list_cases(&caller, &f, page, per_page).await?)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewCaseBody {
    item_code: String,
    enterprise_id: i64,
    materials: Vec<String>,
    note: String,
    /// The investment project whose approval plan the case serves (压茬审批).
    project_id: Option<i64>,
}

/// Files a case for an enterprise in scope (201 with the case as `GET` gives it).
pub async fn create_case(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(b): ApiJson<NewCaseBody>,
) -> Result<Response, ApiError> {
    if b.item_code.trim().is_empty() {
        return Err(AppError::BadRequest("请填写审批事项编码 item_code".into()).into());
    }
    let note = text::optional("备注", &b.note, 500).map_err(AppError::BadRequest)?.unwrap_or_default();
    let new = NewCase {
        item_code: b.item_code,
        enterprise_id: b.enterprise_id,
        materials: b.materials,
        note,
        project_id: b.project_id,
    };
    let case = file(&state, &me, &new).await?;
    Ok((StatusCode::CREATED, Json(detail_of(&state, &me, case.id).await?)).into_response())
}

/// A case in scope with its timeline and the actions the caller may take.
pub async fn case(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<CaseDetail> {
    Ok(Json(detail_of(&state, &me, id).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionBody {
    action: String,
    comment: String,
    materials: Vec<String>,
}

/// Takes an action on a case; answers with the case as it is afterwards.
pub async fn case_action(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<CaseDetail> {
    if b.action.trim().is_empty() {
        // Still 404 for a case outside scope, so the answer does not reveal it exists.
        state.store.case(&me.scope, id).await?;
        return Err(AppError::BadRequest("请填写动作 action".into()).into());
    }
    let input = ActionInput { action: b.action, comment: b.comment, materials: b.materials };
    act(&state, &me, id, &input).await?;
    Ok(Json(detail_of(&state, &me, id).await?))
}

/// The statistics of a period (`year`, `month`, or `from` and `to`), within the caller's scope.
pub async fn stats(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<crate::pages::approval_stats::PeriodQuery>,
) -> ApiResult<dianxiaoer_store::StatsReport> {
    Ok(Json(crate::pages::approval_stats::report_of(&state, &me, &q).await?))
}
