//! Settlements, statements and their configuration under `/api/v1/revenue`: the same operations as
//! `pages/revenue_settlements.rs`, `revenue_statements.rs` and `revenue_retained.rs`, with RFC 9457
//! problem documents — 409 for a confirmed month, 422 for input that fails its checks.

use super::field_problem;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, problem};
use crate::form::ApiJson;
use crate::pages::revenue_retained::{RawMove, RawRule, parse_move, parse_rule};
use crate::pages::revenue_settlements::parse_period;
use crate::pages::revenue_statements::{StatementQuery, resolve};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_store::{Error as StoreError, HostMoveRow, RetainedRuleRow, SettlementDetail, SettlementRow, Statement};
use serde::{Deserialize, Serialize};

type ApiResult<T> = Result<Json<T>, ApiError>;

fn path_period(raw: &str) -> Result<Period, ApiError> {
    Period::parse(raw).map_err(|_| ApiError(AppError::NotFound))
}

fn refused(title: &str, e: StoreError) -> Result<Response, ApiError> {
    match e {
        StoreError::Invalid(m) => Ok(problem(StatusCode::UNPROCESSABLE_ENTITY, title, &m, None)),
        StoreError::Conflict(m) => Ok(problem(StatusCode::CONFLICT, title, &m, None)),
        other => Err(other.into()),
    }
}

pub async fn settlements(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> ApiResult<Vec<SettlementRow>> {
    Ok(Json(state.store.settlements(&me.scope).await?))
}

#[derive(Deserialize)]
pub struct DraftBody {
    /// "2022-01".
    period: String,
}

/// Drafts (or re-drafts) a month: 201 with the settlement; 409 when the month is confirmed (nothing
/// written).
pub async fn draft(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(b): ApiJson<DraftBody>,
) -> Result<Response, ApiError> {
    let p = parse_period(&b.period)?;
    match state.store.draft_settlement(&me.actor(), &me.scope, p, state.now()).await {
        Ok(s) => Ok((StatusCode::CREATED, Json(s)).into_response()),
        Err(e) => refused("结算未起草", e),
    }
}

#[derive(Deserialize)]
pub struct DraftRangeBody {
    /// "2022-01".
    from: String,
    /// "2022-12": at most 12 months after `from`, counting both.
    to: String,
}

/// Drafts every month of a range that is not confirmed, in one transaction: 201 with the months
/// drafted and those skipped as confirmed; 422 for a bad range (nothing written).
pub async fn draft_range(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(b): ApiJson<DraftRangeBody>,
) -> Result<Response, ApiError> {
    let from = parse_period(&b.from)?;
    let to = Period::parse(&b.to).map_err(|e| AppError::BadRequest(format!("结束月份：{}", e.message)))?;
    match state.store.draft_settlements(&me.actor(), &me.scope, from, to, state.now()).await {
        Ok(d) => Ok((StatusCode::CREATED, Json(d)).into_response()),
        Err(e) => refused("结算未起草", e),
    }
}

pub async fn settlement(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(period): Path<String>,
) -> ApiResult<SettlementDetail> {
    Ok(Json(state.store.settlement_detail(&me.scope, path_period(&period)?).await?))
}

pub async fn review(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(period): Path<String>,
) -> Result<Response, ApiError> {
    let p = path_period(&period)?;
    match state.store.review_settlement(&me.actor(), &me.scope, p, state.now()).await {
        Ok(()) => Ok(Json(state.store.settlement(&me.scope, p).await?).into_response()),
        Err(e) => refused("结算未复核", e),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(period): Path<String>,
) -> Result<Response, ApiError> {
    let p = path_period(&period)?;
    match state.store.confirm_settlement(&me.actor(), &me.scope, p, state.now()).await {
        Ok(()) => Ok(Json(state.store.settlement(&me.scope, p).await?).into_response()),
        Err(e) => refused("结算未确认", e),
    }
}

/// A unit's statement; `unit` defaults to the caller's own town or department.
pub async fn statement(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Statement> {
    let r = resolve(&state, &me, &q).await?;
    let p = r.period.ok_or(AppError::NotFound)?;
    let unit =
        r.unit.ok_or_else(|| AppError::BadRequest("请指定单位 unit（town:乡镇代码、dept:部门编号 或 zone）".into()))?;
    Ok(Json(state.store.statement(&me.scope, p, &unit).await?))
}

pub async fn retained_shares(State(state): State<AppState>) -> ApiResult<Vec<RetainedRuleRow>> {
    Ok(Json(state.store.retained_share_rules().await?))
}

/// Adds a retained share: 201 with the table; 422 with errors by field, or when it overlaps.
pub async fn add_retained_share(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(raw): ApiJson<RawRule>,
) -> Result<Response, ApiError> {
    let (rule, note) = match parse_rule(&raw) {
        Ok(r) => r,
        Err(errors) => return Ok(field_problem(errors)),
    };
    match state.store.add_retained_share_rule(&me.actor(), &me.scope, &rule, &note, state.now()).await {
        Ok(_) => Ok((StatusCode::CREATED, Json(state.store.retained_share_rules().await?)).into_response()),
        Err(e) => refused("留成比例未保存", e),
    }
}

/// A project's host history after a move.
#[derive(Serialize)]
pub struct Moved {
    host_town: String,
    moves: Vec<HostMoveRow>,
}

pub async fn move_host(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(raw): ApiJson<RawMove>,
) -> Result<Response, ApiError> {
    state.store.project(&me.scope, id).await?;
    let (town, from) = match parse_move(&raw) {
        Ok(v) => v,
        Err(m) => return Ok(problem(StatusCode::UNPROCESSABLE_ENTITY, "落地乡镇未变更", &m, None)),
    };
    match state.store.move_project_host(&me.actor(), &me.scope, id, &town, from, state.now()).await {
        Ok(()) => Ok(Json(Moved {
            host_town: state.store.project(&me.scope, id).await?.host_town,
            moves: state.store.host_moves(&me.scope, id).await?,
        })
        .into_response()),
        Err(e) => refused("落地乡镇未变更", e),
    }
}
