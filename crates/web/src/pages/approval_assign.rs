//! Taking, assigning and releasing a case (认领、指派、改派) from its page and the JSON API, both
//! through the store's `assign_case`.

use super::approval_cases::{CaseDetail, case_page, detail_of, with_caller};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, PageError};
use crate::form::{ApiJson, PageForm};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Json};
use serde::Deserialize;

/// Whom to give the case: the caller, someone else, or nobody.
pub enum Target {
    Me,
    User(i64),
    Nobody,
}

async fn assign(state: &AppState, me: &CurrentUser, id: i64, target: Target) -> Result<(), AppError> {
    let to = match target {
        Target::Me => Some(me.user.id),
        Target::User(u) => Some(u),
        Target::Nobody => None,
    };
    with_caller!(me, |caller| state.store.assign_case(&caller, id, to, state.now()).await?);
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AssignForm {
    /// `me`, `chosen` (the `assignee` select) or `release`.
    to: String,
    assignee: String,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<AssignForm>,
) -> Result<Response, PageError> {
    let target = match f.to.as_str() {
        "me" => Ok(Target::Me),
        "release" => Ok(Target::Nobody),
        "chosen" => {
            f.assignee.trim().parse().map(Target::User).map_err(|_| AppError::BadRequest("请选择承办人".into()))
        }
        _ => Err(AppError::BadRequest("请选择认领、指派或退回待认领".into())),
    };
    let outcome = match target {
        Ok(t) => assign(&state, &me, id, t).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(super::see_other(&format!("/approval/cases/{id}?ok=assigned"))),
        Err(
            e @ (AppError::BadRequest(_) | AppError::Conflict(_) | AppError::Denied(_) | AppError::Unprocessable(_)),
        ) => case_page(&state, &me, id, None, Some((e.status(), e.detail())), String::new()).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AssignBody {
    /// A user id, `"me"`, or `null` to release.
    to: Option<serde_json::Value>,
}

/// Answers the case as it is afterwards.
pub async fn api(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AssignBody>,
) -> Result<Json<CaseDetail>, ApiError> {
    let target = match b.to {
        None | Some(serde_json::Value::Null) => Target::Nobody,
        Some(serde_json::Value::String(s)) if s == "me" => Target::Me,
        Some(v) => match v.as_i64() {
            Some(u) => Target::User(u),
            None => return Err(AppError::BadRequest("to 应为用户 id、\"me\" 或 null".into()).into()),
        },
    };
    assign(&state, &me, id, target).await?;
    Ok(Json(detail_of(&state, &me, id).await?))
}
