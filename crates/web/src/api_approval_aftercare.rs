//! The JSON API of what follows the decision (`/api/v1/approval/...`): the 告知承诺书, the check's
//! result, the rating with the call-back and rectification of a bad one, the lists of checks, bad
//! ratings and follow-ups, and the periods of the check and the follow-up. Each calls the same
//! operation as its page; refusals are RFC 9457 problems (403 when the role may not, 422 when the
//! case's state does not allow it, 400 for a malformed field).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::form::ApiJson;
use crate::pages::approval_aftercare::{check_op, commit_op, handle_op, rate_op};
use crate::pages::approval_cases::{CaseDetail, detail_of};
use crate::pages::approval_service::{ListQuery, PolicyForm, checks_of, follow_ups_of, save_policy, tasks_of};
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use dianxiaoer_core::approval::aftercare::AftercarePolicy;
use dianxiaoer_core::approval::rating::Step;
use dianxiaoer_store::{CheckRow, CommitmentRow, FollowUpRow, Page, RatingRow, RatingTaskRow};
use serde::Deserialize;

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommitBody {
    text: String,
}

/// The applicant writes (or replaces, before the decision) the case's 告知承诺书.
pub async fn commit(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CommitBody>,
) -> ApiResult<CommitmentRow> {
    Ok(Json(commit_op(&state, &me, id, &b.text).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CheckBody {
    /// `passed` or `failed`.
    result: String,
    /// `paper`, `online`, `on_site` or `public_notice`.
    method: String,
    findings: String,
}

/// Staff record the post-approval check; answers with the case afterwards (办结, or 已撤销).
pub async fn check(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CheckBody>,
) -> ApiResult<CaseDetail> {
    check_op(&state, &me, id, &b.result, &b.method, &b.findings).await?;
    Ok(Json(detail_of(&state, &me, id).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RateBody {
    /// `very_satisfied` … `very_dissatisfied`, the Chinese label, or the score 5–1.
    level: String,
    comment: String,
}

/// The enterprise rates its completed case.
pub async fn rate(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RateBody>,
) -> ApiResult<RatingRow> {
    Ok(Json(rate_op(&state, &me, id, &b.level, &b.comment).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepBody {
    note: String,
}

/// Staff record the call-back (回访核实) of a bad rating.
pub async fn callback(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StepBody>,
) -> ApiResult<RatingRow> {
    Ok(Json(handle_op(&state, &me, id, Step::CallBack, &b.note).await?))
}

/// Staff record the rectification (整改) of a bad rating.
pub async fn rectification(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StepBody>,
) -> ApiResult<RatingRow> {
    Ok(Json(handle_op(&state, &me, id, Step::Rectify, &b.note).await?))
}

/// The checks in scope: `status=pending` (default) | `done` | `all`, paging.
pub async fn checks(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<CheckRow>> {
    Ok(Json(checks_of(&state, &me, &q).await?))
}

/// The bad ratings in scope: `status=open` (default) | `all`, paging.
pub async fn ratings(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<RatingTaskRow>> {
    Ok(Json(tasks_of(&state, &me, &q).await?))
}

/// The completed cases in scope waiting for their follow-up, soonest due first.
pub async fn follow_ups(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<FollowUpRow>> {
    Ok(Json(follow_ups_of(&state, &me, &q).await?))
}

/// The periods of the check and the follow-up in force.
pub async fn policy(State(state): State<AppState>) -> ApiResult<AftercarePolicy> {
    Ok(Json(state.store.aftercare_policy().await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PolicyBody {
    post_check_days: serde_json::Value,
    follow_up_days: serde_json::Value,
}

fn as_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Sets the periods (working days; numbers or strings).
pub async fn set_policy(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(b): ApiJson<PolicyBody>,
) -> ApiResult<AftercarePolicy> {
    let f = PolicyForm { post_check_days: as_text(&b.post_check_days), follow_up_days: as_text(&b.follow_up_days) };
    Ok(Json(save_policy(&state, &me, &f).await?))
}
