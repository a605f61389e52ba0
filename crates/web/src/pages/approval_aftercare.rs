//! After the decision, on the case page: the applicant's 告知承诺书, staff recording the post-approval
//! check (a failed one revokes the decision), the enterprise's 好差评 rating, and staff recording the
//! call-back and rectification of a bad rating. Each form posts here and comes back to the case page;
//! a refusal shows on the case page with its reason. The JSON API calls the same operations
//! (`api_approval_aftercare.rs`).

use super::approval_cases::{case_page, with_caller};
use super::see_other;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use dianxiaoer_core::access::Role;
use dianxiaoer_core::approval::commitment::{CheckMethod, CheckResult, may_commit, notice};
use dianxiaoer_core::approval::default_flow::state as st;
use dianxiaoer_core::approval::rating::{Level, Previous, Step, may_rate};
use dianxiaoer_core::approval::{ApprovalItem, Date};
use dianxiaoer_store::{CaseRow, CommitmentRow, RatingRow};
use serde::Deserialize;

/// What the caller may do after the decision: (write the commitment, record the check, rate).
pub fn may(
    me: &CurrentUser,
    item: &ApprovalItem,
    case: &CaseRow,
    applicant: bool,
    commitment: Option<&CommitmentRow>,
    ratings: &[RatingRow],
) -> (bool, bool, bool) {
    let commit = applicant && may_commit(item, &case.state).is_ok();
    let check = me.user.role == Role::DepartmentStaff
        && case.state == st::POST_CHECK
        && commitment.is_some_and(|k| k.result.is_none());
    let previous = ratings
        .first()
        .and_then(|r| Level::from_score(r.score).map(|level| Previous { level, rectified: r.rectified_at.is_some() }));
    let rate = me.user.role == Role::EnterpriseUser && may_rate(&case.state, previous).is_ok();
    (commit, check, rate)
}

/// The case page's view of what follows the decision.
pub struct AfterView {
    /// The written notice (告知书) of an item that allows 告知承诺.
    pub notice: Option<String>,
    pub levels: Vec<(&'static str, &'static str)>,
    pub methods: Vec<(&'static str, &'static str)>,
    /// The check is past its due date with no result.
    pub check_overdue: bool,
    /// Each rating with the step the caller may record on it now: (path, label).
    pub ratings: Vec<(RatingRow, Option<(&'static str, &'static str)>)>,
}

impl AfterView {
    pub fn new(me: &CurrentUser, item: &ApprovalItem, d: &super::approval_cases::CaseDetail, today: Date) -> AfterView {
        let step = |r: &RatingRow| {
            r.open_step().filter(|s| s.roles().contains(&me.user.role)).map(|s| match s {
                Step::CallBack => ("callback", "登记回访核实"),
                Step::Rectify => ("rectification", "登记整改"),
            })
        };
        AfterView {
            notice: item.commitment_approval.then(|| notice(item)),
            levels: Level::ALL.iter().map(|l| (l.code(), l.label())).collect(),
            methods: CheckMethod::ALL.iter().map(|m| (m.code(), m.label())).collect(),
            check_overdue: d.commitment.as_ref().is_some_and(|k| k.overdue(today)),
            ratings: d.ratings.iter().map(|r| (r.clone(), step(r))).collect(),
        }
    }
}

/// The applicant writes the commitment (page and API).
pub async fn commit_op(state: &AppState, me: &CurrentUser, id: i64, text: &str) -> Result<CommitmentRow, AppError> {
    let now = state.now();
    Ok(with_caller!(me, |caller| state.store.commit_case(&caller, id, text, now).await?))
}

/// Staff record the check's result (page and API).
pub async fn check_op(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    result: &str,
    method: &str,
    findings: &str,
) -> Result<CaseRow, AppError> {
    let result = match CheckResult::parse(result, method, findings) {
        Ok(r) => r,
        Err(m) => {
            // Still 404 for a case outside scope.
            state.store.case(&me.scope, id).await?;
            return Err(AppError::BadRequest(m));
        }
    };
    let cal = state.calendar().await?;
    let now = state.now();
    Ok(with_caller!(me, |caller| state.store.record_check(&caller, id, &result, &cal, now).await?))
}

/// The enterprise rates (page and API).
pub async fn rate_op(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    level: &str,
    comment: &str,
) -> Result<RatingRow, AppError> {
    let Some(level) = Level::parse(level) else {
        state.store.case(&me.scope, id).await?;
        return Err(AppError::BadRequest("请选择评价：非常满意、满意、基本满意、不满意或非常不满意".into()));
    };
    let cal = state.calendar().await?;
    let now = state.now();
    Ok(with_caller!(me, |caller| state.store.rate_case(&caller, id, level, comment, &cal, now).await?))
}

/// Staff record a call-back or a rectification (page and API).
pub async fn handle_op(
    state: &AppState,
    me: &CurrentUser,
    rating: i64,
    step: Step,
    note: &str,
) -> Result<RatingRow, AppError> {
    let now = state.now();
    Ok(with_caller!(me, |caller| state.store.handle_rating(&caller, rating, step, note, now).await?))
}

/// Back to the case page: after success with a notice, after a refusal with its reason.
async fn back<T>(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    r: Result<T, AppError>,
    ok: &str,
) -> Result<Response, PageError> {
    match r {
        Ok(_) => Ok(see_other(&format!("/approval/cases/{id}?ok={ok}"))),
        Err(e @ (AppError::Unprocessable(_) | AppError::BadRequest(_) | AppError::Conflict(_))) => {
            case_page(state, me, id, None, Some((e.status(), e.detail())), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommitForm {
    text: String,
}

pub async fn commit(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<CommitForm>,
) -> Result<Response, PageError> {
    let r = commit_op(&state, &me, id, &f.text).await;
    back(&state, &me, id, r, "committed").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CheckForm {
    result: String,
    method: String,
    findings: String,
}

pub async fn check(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<CheckForm>,
) -> Result<Response, PageError> {
    let r = check_op(&state, &me, id, &f.result, &f.method, &f.findings).await;
    back(&state, &me, id, r, "checked").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RateForm {
    level: String,
    comment: String,
}

pub async fn rate(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<RateForm>,
) -> Result<Response, PageError> {
    let r = rate_op(&state, &me, id, &f.level, &f.comment).await;
    back(&state, &me, id, r, "rated").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    note: String,
    /// The case page to come back to.
    case_id: i64,
}

async fn step_page(
    state: AppState,
    me: CurrentUser,
    rating: i64,
    step: Step,
    f: StepForm,
) -> Result<Response, PageError> {
    match handle_op(&state, &me, rating, step, &f.note).await {
        Ok(r) => Ok(see_other(&format!("/approval/cases/{}?ok=handled", r.case_id))),
        Err(e) if f.case_id > 0 => back::<()>(&state, &me, f.case_id, Err(e), "handled").await,
        Err(e) => Err(e.into()),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<StepForm>,
) -> Result<Response, PageError> {
    step_page(state, me, id, Step::CallBack, f).await
}

pub async fn rectification(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<StepForm>,
) -> Result<Response, PageError> {
    step_page(state, me, id, Step::Rectify, f).await
}
