//! The JSON API under `/api/v1`. Each handler calls the same operation as its page in `pages/`;
//! errors are RFC 9457 problem documents.

pub mod revenue;
pub mod revenue_settlement;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, problem};
use crate::form::ApiJson;
use crate::pages::admin::{UserForm, create_account, parse_user_form};
use crate::pages::audit::LogQuery;
use crate::pages::calendar::{save_day, year_days};
use crate::pages::calendar_view::{self, DayForm, DeadlineAnswer, DeadlineForm, SpecialDay};
use crate::pages::enterprise_form::{self, Context, RawEnterprise};
use crate::pages::enterprise_import::{self, Outcome};
use crate::pages::enterprises::{
    ContactForm, ListQuery, NewContactForm, masked, masked_contacts, parse_contact, parse_new_contact,
};
use crate::pages::{paging, security::save_policy};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dianxiaoer_core::password::PasswordPolicy;
use dianxiaoer_core::text;
use dianxiaoer_store::sessions::random_token;
use dianxiaoer_store::{
    ApiKeyRow, AuditRow, ChainReport, ContactRow, DepartmentRow, EnterpriseRow, LoginRow, Page, TownRow, UserFilter,
    UserRow,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Serialize)]
pub struct Me {
    user: UserRow,
    scope: dianxiaoer_core::access::Scope,
}

pub async fn me(Extension(me): Extension<CurrentUser>) -> ApiResult<Me> {
    Ok(Json(Me { user: me.user, scope: me.scope }))
}

pub async fn towns(State(state): State<AppState>) -> ApiResult<Vec<TownRow>> {
    Ok(Json(state.store.towns().await?))
}

pub async fn departments(State(state): State<AppState>) -> ApiResult<Vec<DepartmentRow>> {
    Ok(Json(state.store.departments().await?))
}

/// Creates a key for `me`; shared with the account page.
pub async fn new_key(state: &AppState, me: &CurrentUser, name: &str) -> Result<String, AppError> {
    if me.user.role.is_admin() {
        return Err(AppError::BadRequest("管理员账号须使用动态口令登录，不能创建 API 密钥".into()));
    }
    let name = text::required("名称", name, 40).map_err(AppError::BadRequest)?;
    let key = format!("dxe_{}", random_token(24));
    state.store.create_api_key(&me.actor(), me.user.id, &name, &key, state.now()).await?;
    Ok(key)
}

pub async fn list_keys(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> ApiResult<Vec<ApiKeyRow>> {
    Ok(Json(state.store.list_api_keys(me.user.id).await?))
}

#[derive(Deserialize)]
pub struct KeyBody {
    name: String,
}

pub async fn create_key(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    let key = new_key(&state, &me, &b.name).await?;
    Ok((StatusCode::CREATED, Json(json!({"key": key, "note": "密钥只显示这一次"}))).into_response())
}

pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.revoke_api_key(&me.actor(), me.user.id, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct UsersQuery {
    q: Option<String>,
    role: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

pub async fn users(State(state): State<AppState>, Query(q): Query<UsersQuery>) -> ApiResult<Page<UserRow>> {
    let (page, per_page) = paging(q.page, q.per_page);
    let role = match q.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => {
            Some(dianxiaoer_core::access::Role::parse(r).ok_or_else(|| AppError::BadRequest("未知角色".into()))?)
        }
        None => None,
    };
    let filter = UserFilter { q: q.q.filter(|s| !s.trim().is_empty()), role };
    Ok(Json(state.store.list_users(&filter, page, per_page).await?))
}

fn field_problem(errors: crate::pages::FieldErrors) -> Response {
    let errs: Value =
        errors.into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect::<serde_json::Map<_, _>>().into();
    problem(StatusCode::UNPROCESSABLE_ENTITY, "数据校验未通过", "请按 errors 中的说明修改后重新提交", Some(errs))
}

pub async fn create_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(f): ApiJson<UserForm>,
) -> Result<Response, ApiError> {
    let parsed = match parse_user_form(&state, &f, true).await? {
        Ok(p) => p,
        Err(errors) => return Ok(field_problem(errors)),
    };
    let (id, temp) = create_account(&state, &me, parsed).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "temporary_password": temp}))).into_response())
}

pub async fn policy(State(state): State<AppState>) -> ApiResult<PasswordPolicy> {
    Ok(Json(state.policy()))
}

pub async fn set_policy(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(p): ApiJson<PasswordPolicy>,
) -> Result<Response, ApiError> {
    if let Err(errs) = p.validate() {
        return Ok(field_problem(errs.into_iter().collect()));
    }
    save_policy(&state, &me, p.clone()).await?;
    Ok(Json(p).into_response())
}

pub async fn unlock(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.unlock_user(&me.actor(), id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn audit_logs(State(state): State<AppState>, Query(q): Query<LogQuery>) -> ApiResult<Page<AuditRow>> {
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(state.store.list_audit(&q.audit_filter(), page, per_page).await?))
}

pub async fn logins(State(state): State<AppState>, Query(q): Query<LogQuery>) -> ApiResult<Page<LoginRow>> {
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(state.store.list_logins(&q.login_filter(), page, per_page).await?))
}

pub async fn verify(State(state): State<AppState>, Extension(me): Extension<CurrentUser>) -> ApiResult<ChainReport> {
    let report = state.store.verify_audit_chain().await?;
    let entry = dianxiaoer_store::AuditEntry::ok("verify_audit_chain", "audit_log", "all")
        .detail(json!({"checked": report.checked, "first_bad_seq": report.first_bad_seq}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(Json(report))
}

pub async fn enterprises(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<EnterpriseRow>> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let mut rows = state.store.list_enterprises(&me.scope, &f, page, per_page).await?;
    rows.items = rows.items.into_iter().map(|e| masked(e, &me)).collect();
    Ok(Json(rows))
}

pub async fn enterprise(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<EnterpriseRow> {
    Ok(Json(masked(state.store.enterprise(&me.scope, id).await?, &me)))
}

pub async fn update_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<ContactForm>,
) -> Result<Response, ApiError> {
    let c = parse_contact(&f).map_err(AppError::BadRequest)?;
    state.store.update_enterprise_contact(&me.actor(), &me.scope, id, &c, state.now()).await?;
    Ok(Json(masked(state.store.enterprise(&me.scope, id).await?, &me)).into_response())
}

/// The further contacts of an enterprise, phones masked as on the page.
pub async fn contacts(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<Vec<ContactRow>> {
    Ok(Json(masked_contacts(state.store.enterprise_contacts(&me.scope, id).await?, &me)))
}

pub async fn add_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<NewContactForm>,
) -> Result<Response, ApiError> {
    let c = parse_new_contact(&f).map_err(AppError::BadRequest)?;
    let cid = state.store.add_enterprise_contact(&me.actor(), &me.scope, id, &c, state.now()).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": cid}))).into_response())
}

pub async fn remove_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path((id, contact)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    state.store.remove_enterprise_contact(&me.actor(), &me.scope, id, contact, state.now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn field_errors_problem(errors: crate::pages::FieldErrors) -> Response {
    field_problem(errors)
}

pub async fn create_enterprise(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(raw): ApiJson<RawEnterprise>,
) -> Result<Response, ApiError> {
    let ctx = Context::load(&state).await?;
    let input = match enterprise_form::parse(&raw, &ctx) {
        Ok(i) => i,
        Err(errors) => return Ok(field_errors_problem(errors)),
    };
    let id = state.store.create_enterprise(&me.actor(), &me.scope, &input, state.now()).await?;
    Ok((StatusCode::CREATED, Json(masked(state.store.enterprise(&me.scope, id).await?, &me))).into_response())
}

pub async fn update_enterprise(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(raw): ApiJson<RawEnterprise>,
) -> Result<Response, ApiError> {
    state.store.enterprise(&me.scope, id).await?;
    let ctx = Context::load(&state).await?;
    let input = match enterprise_form::parse(&raw, &ctx) {
        Ok(i) => i,
        Err(errors) => return Ok(field_errors_problem(errors)),
    };
    state.store.update_enterprise(&me.actor(), &me.scope, id, &input, state.now()).await?;
    Ok(Json(masked(state.store.enterprise(&me.scope, id).await?, &me)).into_response())
}

/// The same import as the page: all rows or none; bad cells listed in the problem document.
pub async fn import_enterprises(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let (bytes, name) = enterprise_import::upload_field(&mut mp)
        .await?
        .ok_or_else(|| AppError::BadRequest("缺少文件字段 file".into()))?;
    match enterprise_import::run(&state, &me, bytes, &name).await? {
        Outcome::Done { counts, .. } => Ok(Json(counts).into_response()),
        Outcome::Refused { sheet_error, cells, rows } => {
            let detail =
                sheet_error.unwrap_or_else(|| format!("{rows} 行中发现 {} 处错误，整个文件均未写入", cells.len()));
            let cells: Vec<_> = cells.into_iter().take(1000).collect();
            Ok(problem(StatusCode::UNPROCESSABLE_ENTITY, "导入未通过校验", &detail, Some(json!({"cells": cells}))))
        }
    }
}

#[derive(Deserialize)]
pub struct IndustryQuery {
    q: Option<String>,
}

/// Looks up GB/T 4754-2017 codes by code prefix or name.
pub async fn industries(Query(q): Query<IndustryQuery>) -> ApiResult<Vec<Value>> {
    let text = q.q.unwrap_or_default();
    let found = dianxiaoer_core::industry::search(text.trim());
    Ok(Json(
        found
            .into_iter()
            .map(|c| json!({"code": c.code(), "name": c.name(), "level": c.level().label(), "path": c.path_names()}))
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// A year of the working-day calendar.
#[derive(Serialize)]
pub struct CalendarYear {
    year: i32,
    /// `official`, `provisional` (statutory days only, no 调休) or `missing` in the compiled-in table.
    coverage: dianxiaoer_core::approval::Coverage,
    warning: Option<String>,
    working_days: u32,
    rest_days: u32,
    days: Vec<SpecialDay>,
}

pub async fn calendar(State(state): State<AppState>, Query(q): Query<YearQuery>) -> ApiResult<CalendarYear> {
    let year = calendar_view::parse_year(q.year.as_deref(), state.now()).map_err(AppError::BadRequest)?;
    let (days, _, (working_days, rest_days)) = year_days(&state, year).await?;
    Ok(Json(CalendarYear {
        year,
        coverage: dianxiaoer_core::approval::statutory_coverage(year),
        warning: calendar_view::coverage_warning(year),
        working_days,
        rest_days,
        days,
    }))
}

/// Sets one date (PUT or POST), the same operation as the admin page's form.
pub async fn set_calendar_day(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(f): ApiJson<DayForm>,
) -> Result<Response, ApiError> {
    let day = match calendar_view::parse_day(&f) {
        Ok(d) => d,
        Err(errors) => return Ok(field_problem(errors)),
    };
    save_day(&state, &me, &day).await?;
    Ok(Json(json!({"date": day.date(), "kind": day.kind(), "label": day.kind().label(), "name": day.name()}))
        .into_response())
}

pub async fn calendar_deadline(
    State(state): State<AppState>,
    Query(f): Query<DeadlineForm>,
) -> Result<Response, ApiError> {
    match calendar_view::parse_deadline(&f) {
        Ok((received, n)) => {
            let cal = state.calendar().await?;
            let answer: DeadlineAnswer = calendar_view::answer(&cal, received, n);
            Ok(Json(answer).into_response())
        }
        Err(errors) => {
            let detail = errors.values().cloned().collect::<Vec<_>>().join("；");
            let errs: Value = errors
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect::<serde_json::Map<_, _>>()
                .into();
            Ok(problem(StatusCode::BAD_REQUEST, AppError::BadRequest(String::new()).title(), &detail, Some(errs)))
        }
    }
}
