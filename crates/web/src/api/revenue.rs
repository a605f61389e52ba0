//! The enclave economy's JSON API under `/api/v1/revenue`: the same operations as the pages in
//! `pages/revenue_*.rs`, with RFC 9457 problem documents for errors.

use super::field_problem;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, problem};
use crate::form::ApiJson;
use crate::pages::paging;
use crate::pages::revenue_assessment::{QuotaForm, RuleForm, YearQuery, parse_quota, parse_rule, year_of};
use crate::pages::revenue_project_form::{RawProject, parse_with_store};
use crate::pages::revenue_projects::{ListQuery, RawAgreement, parse_agreement};
use crate::pages::revenue_tax::{TaxOutcome, TaxQuery, read_upload, run};
use axum::Extension;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dianxiaoer_core::revenue::assessment::ScoringRule;
use dianxiaoer_store::{AgreementRow, LedgerRow, Page, PeriodTotal, ProjectRow, TaxImportRow, WithdrawnImport};
use serde::Serialize;
use serde_json::json;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub async fn projects(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<ProjectRow>> {
    let f = q.filter(&state.refdata().await?.departments)?;
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(state.store.list_projects(&me.scope, &f, page, per_page).await?))
}

/// A project with its sharing agreements.
#[derive(Serialize)]
pub struct ProjectDetail {
    #[serde(flatten)]
    project: ProjectRow,
    agreements: Vec<AgreementRow>,
}

async fn detail_of(state: &AppState, me: &CurrentUser, id: i64) -> Result<ProjectDetail, ApiError> {
    Ok(ProjectDetail {
        project: state.store.project(&me.scope, id).await?,
        agreements: state.store.agreements(&me.scope, id).await?,
    })
}

pub async fn project(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<ProjectDetail> {
    Ok(Json(detail_of(&state, &me, id).await?))
}

pub async fn create_project(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(raw): ApiJson<RawProject>,
) -> Result<Response, ApiError> {
    let input = match parse_with_store(&state, &raw).await? {
        Ok(i) => i,
        Err(errors) => return Ok(field_problem(errors)),
    };
    let id = state.store.create_project(&me.actor(), &me.scope, &input, state.now()).await?;
    Ok((StatusCode::CREATED, Json(detail_of(&state, &me, id).await?)).into_response())
}

pub async fn update_project(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(raw): ApiJson<RawProject>,
) -> Result<Response, ApiError> {
    state.store.project(&me.scope, id).await?;
    let input = match parse_with_store(&state, &raw).await? {
        Ok(i) => i,
        Err(errors) => return Ok(field_problem(errors)),
    };
    state.store.update_project(&me.actor(), &me.scope, id, &input, state.now()).await?;
    Ok(Json(detail_of(&state, &me, id).await?).into_response())
}

/// Adds an agreement; a bad ratio or month, or one overlapping another, is a 422 problem.
pub async fn add_agreement(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(raw): ApiJson<RawAgreement>,
) -> Result<Response, ApiError> {
    state.store.project(&me.scope, id).await?;
    let refused = |m: &str| problem(StatusCode::UNPROCESSABLE_ENTITY, "分成协议未通过校验", m, None);
    let a = match parse_agreement(&raw) {
        Ok(a) => a,
        Err(m) => return Ok(refused(&m)),
    };
    match state.store.add_agreement(&me.actor(), &me.scope, id, &a, state.now()).await {
        Ok(_) => Ok((StatusCode::CREATED, Json(detail_of(&state, &me, id).await?)).into_response()),
        Err(dianxiaoer_store::Error::Invalid(m)) => Ok(refused(&m)),
        Err(e) => Err(e.into()),
    }
}

pub async fn ledger(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<TaxQuery>,
) -> ApiResult<Page<LedgerRow>> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(state.store.list_tax_ledger(&me.scope, &f, page, per_page).await?))
}

pub async fn totals(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<TaxQuery>,
) -> ApiResult<Vec<PeriodTotal>> {
    Ok(Json(state.store.tax_totals(&me.scope, &q.filter()?).await?))
}

pub async fn imports(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> ApiResult<Vec<TaxImportRow>> {
    Ok(Json(state.store.tax_imports(&me.scope, 50).await?))
}

/// Withdraws a whole import (the page's button): 200 with what was taken out and the unconfirmed
/// settlements discarded; 409 when one of its months is confirmed, 404 for an unknown import (nothing
/// changed).
pub async fn withdraw_import(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<WithdrawnImport> {
    Ok(Json(state.store.withdraw_tax_import(&me.actor(), &me.scope, id, state.now()).await?))
}

/// The same import as the page: 201 when imported, 200 when the file was imported before (nothing
/// changed), 422 with the bad cells when refused (nothing written).
pub async fn import(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let (file, encoding) = read_upload(mp).await?;
    let (bytes, name) = file.ok_or_else(|| AppError::BadRequest("缺少文件字段 file".into()))?;
    match run(&state, &me, bytes, &name, encoding).await? {
        done @ TaxOutcome::Imported { .. } => Ok((StatusCode::CREATED, Json(done)).into_response()),
        same @ TaxOutcome::AlreadyImported { .. } => Ok(Json(same).into_response()),
        TaxOutcome::Refused { sheet_error, cells } => {
            let detail = sheet_error.unwrap_or_else(|| format!("发现 {} 处错误，整个文件均未写入", cells.len()));
            let cells: Vec<_> = cells.into_iter().take(1000).collect();
            Ok(problem(StatusCode::UNPROCESSABLE_ENTITY, "导入未通过校验", &detail, Some(json!({"cells": cells}))))
        }
    }
}

/// The year's assessment board; explanations only for units within the caller's scope.
pub async fn assessment(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<YearQuery>,
) -> ApiResult<Vec<dianxiaoer_store::BoardRow>> {
    let year = year_of(&state, &q)?;
    Ok(Json(state.store.assessment_board(&me.scope, year).await?))
}

pub async fn assessment_rules(State(state): State<AppState>) -> ApiResult<Vec<ScoringRule>> {
    Ok(Json(state.store.assessment_rules().await?))
}

pub async fn add_assessment_rule(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(f): ApiJson<RuleForm>,
) -> Result<Response, ApiError> {
    let rule = parse_rule(&f).map_err(AppError::BadRequest)?;
    let id = state.store.add_assessment_rule(&me.actor(), &rule, state.now()).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

pub async fn set_assessment_quota(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(f): ApiJson<QuotaForm>,
) -> Result<Response, ApiError> {
    let q = parse_quota(&f).map_err(AppError::BadRequest)?;
    state.store.set_assessment_quota(&me.actor(), &q, state.now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
