//! The working-day calendar (工作日历): the system admin's page of a year's statutory holidays and
//! adjusted working weekends (调休), where the admin adds, replaces, pastes and deletes dates; and the
//! deadline calculator every signed-in user may use. The JSON API calls the same operations.

use super::calendar_view::{
    self, DayForm, DeadlineAnswer, DeadlineForm, Month, SpecialDay, parse_day, parse_deadline, parse_pasted, parse_year,
};
use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::approval::{Date, DayOverride};
use dianxiaoer_store::{CalendarImportCounts, Error as StoreError};
use serde::Deserialize;

/// Sets one date (page and API), and drops the cached calendar so deadlines use it at once.
pub async fn save_day(state: &AppState, me: &CurrentUser, day: &DayOverride) -> Result<(), AppError> {
    state.store.set_calendar_day(&me.actor(), day, state.now()).await?;
    state.forget_calendar();
    Ok(())
}

/// Sets every date of a paste, all or none.
pub async fn import_days(
    state: &AppState,
    me: &CurrentUser,
    days: &[DayOverride],
) -> Result<CalendarImportCounts, AppError> {
    let counts = state.store.import_calendar_days(&me.actor(), days, state.now()).await?;
    state.forget_calendar();
    Ok(counts)
}

/// The special days of a year, fresh from the store (page and API).
pub async fn year_days(state: &AppState, year: i32) -> Result<(Vec<SpecialDay>, Vec<Month>, (u32, u32)), AppError> {
    let rows = state.store.calendar_days().await?;
    let (cal, by_date) = calendar_view::with_rows(&rows).map_err(AppError::Internal)?;
    Ok((
        calendar_view::special_days(&cal, &by_date, year),
        calendar_view::months(&cal, &by_date, year),
        calendar_view::year_counts(&cal, year),
    ))
}

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    year: Option<String>,
    ok: Option<String>,
    n: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    year: i32,
    coverage: &'static str,
    warning: Option<String>,
    imported: Option<u32>,
    days: Vec<SpecialDay>,
    months: Vec<Month>,
    work_days: u32,
    rest_days: u32,
    day: DayForm,
    text: String,
    errors: FieldErrors,
}

/// What was typed into either form, shown again with its errors.
#[derive(Default)]
struct Typed {
    day: DayForm,
    text: String,
    errors: FieldErrors,
}

async fn calendar_page(
    state: &AppState,
    me: &CurrentUser,
    year: i32,
    q: &CalendarQuery,
    typed: Typed,
) -> Result<Response, PageError> {
    let bad = !typed.errors.is_empty();
    let (days, months, (work_days, rest_days)) = year_days(state, year).await?;
    let imported = match q.ok.as_deref() {
        Some("imported") => q.n.as_deref().and_then(|n| n.parse().ok()),
        _ => None,
    };
    let page = CalendarPage {
        chrome: Chrome::new(me, "/admin/calendar", "工作日历").notice(q.ok.as_deref()),
        year,
        coverage: calendar_view::coverage_label(year),
        warning: calendar_view::coverage_warning(year),
        imported,
        days,
        months,
        work_days,
        rest_days,
        day: typed.day,
        text: typed.text,
        errors: typed.errors,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn page(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<CalendarQuery>,
) -> Result<Response, PageError> {
    let year = parse_year(q.year.as_deref(), state.now()).map_err(AppError::BadRequest)?;
    calendar_page(&state, &me, year, &q, Typed::default()).await
}

/// The form's hidden `year`, so a refused form comes back on the year it was sent from.
#[derive(Deserialize, Default)]
pub struct DayPost {
    #[serde(flatten)]
    day: DayForm,
    #[serde(default)]
    year: String,
}

fn year_of(state: &AppState, typed: &str, fallback: &str) -> i32 {
    Date::parse(typed)
        .map(Date::year)
        .or_else(|_| parse_year(Some(fallback), state.now()))
        .unwrap_or_else(|_| Date::from_ms(state.now()).year())
}

pub async fn set_day(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<DayPost>,
) -> Result<Response, PageError> {
    let year = year_of(&state, &f.day.date, &f.year);
    let errors = match parse_day(&f.day) {
        Ok(day) => {
            save_day(&state, &me, &day).await?;
            return Ok(see_other(&format!("/admin/calendar?year={}&ok=saved", day.date().year())));
        }
        Err(errors) => errors,
    };
    let typed = Typed { day: f.day, text: String::new(), errors };
    calendar_page(&state, &me, year, &CalendarQuery::default(), typed).await
}

#[derive(Deserialize, Default)]
pub struct ImportPost {
    #[serde(default)]
    text: String,
    #[serde(default)]
    year: String,
}

pub async fn import(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<ImportPost>,
) -> Result<Response, PageError> {
    let year = year_of(&state, "", &f.year);
    let message = match parse_pasted(&f.text) {
        Ok(days) => match import_days(&state, &me, &days).await {
            Ok(counts) => {
                let first = days.iter().map(DayOverride::date).min().map_or(year, Date::year);
                let n = counts.inserted + counts.replaced;
                return Ok(see_other(&format!("/admin/calendar?year={first}&ok=imported&n={n}")));
            }
            Err(AppError::BadRequest(m) | AppError::Conflict(m)) => m,
            Err(e) => return Err(e.into()),
        },
        Err(m) => m,
    };
    let mut errors = FieldErrors::new();
    errors.insert("text", format!("未导入：{message}。整段内容均未写入，请修改后重新提交。"));
    let typed = Typed { day: DayForm::default(), text: f.text, errors };
    calendar_page(&state, &me, year, &CalendarQuery::default(), typed).await
}

pub async fn delete_day(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(date): Path<String>,
) -> Result<Response, PageError> {
    let date = Date::parse(&date).map_err(|e| AppError::BadRequest(e.message))?;
    match state.store.delete_calendar_day(&me.actor(), date, state.now()).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(AppError::BadRequest(format!("{date}没有管理员设置的安排，无需删除")).into());
        }
        Err(e) => return Err(e.into()),
    }
    state.forget_calendar();
    Ok(see_other(&format!("/admin/calendar?year={}&ok=deleted", date.year())))
}

#[derive(Template)]
#[template(path = "calendar_deadline.html")]
struct DeadlinePage {
    chrome: Chrome,
    form: DeadlineForm,
    errors: FieldErrors,
    answer: Option<DeadlineAnswer>,
}

/// The calculator: empty, it offers the current time; filled in, it answers or shows what is wrong.
pub async fn deadline(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(f): Query<DeadlineForm>,
) -> Result<Response, PageError> {
    let chrome = Chrome::new(&me, "/calendar/deadline", "期限计算");
    if f.received.trim().is_empty() && f.days.trim().is_empty() {
        let now = dianxiaoer_core::when::format_ms(state.now());
        let form = DeadlineForm { received: now.chars().take(16).collect(), days: String::new() };
        return render(&DeadlinePage { chrome, form, errors: FieldErrors::new(), answer: None });
    }
    match parse_deadline(&f) {
        Ok((received, n)) => {
            let cal = state.calendar().await?;
            let answer = Some(calendar_view::answer(&cal, received, n));
            render(&DeadlinePage { chrome, form: f, errors: FieldErrors::new(), answer })
        }
        Err(errors) => {
            let mut resp = render(&DeadlinePage { chrome, form: f, errors, answer: None })?;
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            Ok(resp)
        }
    }
}
