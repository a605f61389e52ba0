//! The lists after the decision: the 告知承诺 checks (pending by due date, done, all) with the
//! configurable periods of the check and the follow-up, and the service page (回访与好差评): bad
//! ratings waiting for their call-back or rectification, and completed cases waiting for their
//! follow-up. Within the caller's scope; the JSON API answers the same lists.

use super::{paging, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::approval::Date;
use dianxiaoer_core::approval::aftercare::AftercarePolicy;
use dianxiaoer_store::{CheckRow, CheckStatus, FollowUpRow, Page, RatingTaskRow, TaskStatus};
use serde::Deserialize;

/// Rows of each list on the service page.
const SERVICE_ROWS: i64 = 100;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub ok: Option<String>,
}

pub fn check_status(raw: Option<&str>) -> Result<CheckStatus, AppError> {
    match raw.map(str::trim) {
        None | Some("" | "pending") => Ok(CheckStatus::Pending),
        Some("done") => Ok(CheckStatus::Done),
        Some("all") => Ok(CheckStatus::All),
        Some(_) => Err(AppError::BadRequest("核查状态应为待核查（pending）、已核查（done）或全部（all）".into())),
    }
}

pub fn task_status(raw: Option<&str>) -> Result<TaskStatus, AppError> {
    match raw.map(str::trim) {
        None | Some("" | "open") => Ok(TaskStatus::Open),
        Some("all") => Ok(TaskStatus::All),
        Some(_) => Err(AppError::BadRequest("差评状态应为待处理（open）或全部（all）".into())),
    }
}

#[derive(Template)]
#[template(path = "approval_checks.html")]
struct ChecksPage {
    chrome: Chrome,
    rows: Page<CheckRow>,
    pager: Pager,
    status: &'static str,
    policy: AftercarePolicy,
    can_configure: bool,
    /// The typed values and the reason when the periods were refused.
    form: Option<(String, String, String)>,
}

/// The checks in scope (page and API).
pub async fn checks_of(state: &AppState, me: &CurrentUser, q: &ListQuery) -> Result<Page<CheckRow>, AppError> {
    let status = check_status(q.status.as_deref())?;
    let (page, per_page) = paging(q.page, q.per_page);
    let today = Date::from_ms(state.now());
    Ok(state.store.commitment_checks(&me.scope, status, today, page, per_page).await?)
}

async fn checks_page(
    state: &AppState,
    me: &CurrentUser,
    q: &ListQuery,
    form: Option<(String, String, String)>,
) -> Result<Response, PageError> {
    let rows = checks_of(state, me, q).await?;
    let status = match check_status(q.status.as_deref())? {
        CheckStatus::Pending => "pending",
        CheckStatus::Done => "done",
        CheckStatus::All => "all",
    };
    let pager = Pager::new(&rows, query_string(&[("status", status)]));
    let failed = form.is_some();
    let mut resp = render(&ChecksPage {
        chrome: Chrome::new(me, "/approval/checks", "告知承诺核查").notice(q.ok.as_deref()),
        rows,
        pager,
        status,
        policy: state.store.aftercare_policy().await?,
        can_configure: permits(me.user.role, Permission::EditCatalogue),
        form,
    })?;
    if failed {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn checks(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    checks_page(&state, &me, &q, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PolicyForm {
    pub post_check_days: String,
    pub follow_up_days: String,
}

/// Parses and saves the periods (page and API); audited.
pub async fn save_policy(state: &AppState, me: &CurrentUser, f: &PolicyForm) -> Result<AftercarePolicy, AppError> {
    let p = AftercarePolicy::parse(&f.post_check_days, &f.follow_up_days)
        .map_err(|errs| AppError::BadRequest(errs.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("；")))?;
    state.store.set_aftercare_policy(&me.actor(), &p, state.now()).await?;
    Ok(p)
}

pub async fn settings(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<PolicyForm>,
) -> Result<Response, PageError> {
    match save_policy(&state, &me, &f).await {
        Ok(_) => Ok(see_other("/approval/checks?ok=saved")),
        Err(AppError::BadRequest(m)) => {
            let form = Some((f.post_check_days, f.follow_up_days, m));
            checks_page(&state, &me, &ListQuery::default(), form).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "approval_service.html")]
struct ServicePage {
    chrome: Chrome,
    tasks: Page<RatingTaskRow>,
    follow_ups: Page<FollowUpRow>,
    status: &'static str,
}

/// The bad ratings in scope (page and API).
pub async fn tasks_of(state: &AppState, me: &CurrentUser, q: &ListQuery) -> Result<Page<RatingTaskRow>, AppError> {
    let status = task_status(q.status.as_deref())?;
    let (page, per_page) = paging(q.page, q.per_page);
    let today = Date::from_ms(state.now());
    Ok(state.store.rating_tasks(&me.scope, status, today, page, per_page).await?)
}

/// The follow-ups due in scope (page and API).
pub async fn follow_ups_of(state: &AppState, me: &CurrentUser, q: &ListQuery) -> Result<Page<FollowUpRow>, AppError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let today = Date::from_ms(state.now());
    Ok(state.store.pending_follow_ups(&me.scope, today, page, per_page).await?)
}

pub async fn service(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let status = task_status(q.status.as_deref())?;
    let first = ListQuery { per_page: Some(SERVICE_ROWS), ..q.clone() };
    let follow = ListQuery { status: None, page: None, per_page: Some(SERVICE_ROWS), ok: None };
    render(&ServicePage {
        chrome: Chrome::new(&me, "/approval/service", "回访与好差评"),
        tasks: tasks_of(&state, &me, &first).await?,
        follow_ups: follow_ups_of(&state, &me, &follow).await?,
        status: if status == TaskStatus::Open { "open" } else { "all" },
    })
}

/// The label of a rating's open step.
pub fn step_text(step: &Option<String>) -> &'static str {
    match step.as_deref() {
        Some("callback") => "待回访核实",
        Some("rectify") => "待整改",
        _ => "已整改",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_parsed() {
        assert_eq!(check_status(None).ok(), Some(CheckStatus::Pending));
        assert_eq!(check_status(Some("done")).ok(), Some(CheckStatus::Done));
        assert!(check_status(Some("late")).is_err());
        assert_eq!(task_status(Some("all")).ok(), Some(TaskStatus::All));
        assert!(task_status(Some("x")).is_err());
        assert_eq!(step_text(&Some("callback".into())), "待回访核实");
        assert_eq!(step_text(&None), "已整改");
    }
}
