//! Page handlers. Each calls the same store operation as its JSON counterpart in `api.rs`.

pub mod account;
pub mod admin;
pub mod approval_aftercare;
pub mod approval_assign;
pub mod approval_cases;
pub mod approval_documents;
pub mod approval_filing;
pub mod approval_items;
pub mod approval_projects;
pub mod approval_service;
pub mod approval_stats;
pub mod approval_workflow;
pub mod audit;
pub mod calendar;
pub mod calendar_view;
pub mod certificate;
pub mod enterprise_form;
pub mod enterprise_import;
pub mod enterprises;
pub mod gas_alarms;
pub mod gas_detectors;
pub mod gas_form;
pub mod gas_import;
pub mod gas_monitor;
pub mod gas_series;
pub mod guide;
pub mod home;
pub mod login;
pub mod revenue_assessment;
pub mod revenue_coverage;
pub mod revenue_project_form;
pub mod revenue_project_import;
pub mod revenue_projects;
pub mod revenue_retained;
pub mod revenue_settlements;
pub mod revenue_statements;
pub mod revenue_tax;
pub mod seal;
pub mod security;
pub mod sheet_import;

use crate::error::{AppError, PageError, error_page, problem};
use askama::Template;
use axum::extract::Path;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");

pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return error_page(StatusCode::NOT_FOUND, "页面不存在", "没有这个文件。"),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

pub async fn not_found(uri: Uri) -> Response {
    let e = AppError::NotFound;
    if uri.path().starts_with("/api/") {
        problem(e.status(), e.title(), &e.detail(), None)
    } else {
        error_page(e.status(), e.title(), &e.detail())
    }
}

/// Renders a template into a page response.
pub fn render(t: &impl Template) -> Result<Response, PageError> {
    t.render().map(|h| Html(h).into_response()).map_err(|e| PageError(AppError::Internal(format!("template: {e}"))))
}

/// A 303 redirect after a successful POST.
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// Field errors of a form, by field name.
pub type FieldErrors = std::collections::BTreeMap<&'static str, String>;

/// Page and per-page from the query, with defaults.
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    (page.unwrap_or(1), per_page.unwrap_or(20))
}

/// Empty strings from a form become `None`.
pub fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}
