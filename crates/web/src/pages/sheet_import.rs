//! What the smaller Excel imports (investment projects, gas detectors) share: the outcome, the upload
//! page that shows it, and the API answer. Each import keeps its own columns and rules.

use super::enterprise_import::CellError;
use super::render;
use crate::auth::CurrentUser;
use crate::error::{PageError, problem};
use crate::view::Chrome;
use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What an import came to.
pub enum Outcome {
    Done { inserted: u64 },
    Refused { sheet_error: Option<String>, cells: Vec<CellError>, rows: usize },
}

impl Outcome {
    /// The store refused the checked rows as a whole (scope, a duplicate already registered).
    pub fn refused(message: String, rows: usize) -> Outcome {
        Outcome::Refused { sheet_error: Some(message), cells: Vec::new(), rows }
    }
}

/// The words and addresses of one import's page.
pub struct ImportView {
    /// The nav entry the page belongs to, and its title.
    pub nav: &'static str,
    pub title: &'static str,
    /// The upload form's action and the template's address.
    pub action: &'static str,
    pub template: &'static str,
    /// Shown on success: "新增 N {done}", linking to `list`.
    pub done: &'static str,
    pub list: &'static str,
    pub list_label: &'static str,
    /// How to fill the sheet, and what each column takes.
    pub intro: &'static str,
    pub notes: &'static str,
    pub columns: &'static [(&'static str, &'static str, bool)],
    pub max_rows: usize,
}

#[derive(Template)]
#[template(path = "sheet_import.html")]
struct ImportPage<'a> {
    chrome: Chrome,
    v: &'a ImportView,
    sheet_error: Option<String>,
    cells: Vec<CellError>,
    rows: usize,
    inserted: Option<u64>,
}

/// The upload page, with the outcome of an upload when there is one (400 when refused).
pub fn page(me: &CurrentUser, v: &ImportView, outcome: Option<Outcome>) -> Result<Response, PageError> {
    let (sheet_error, cells, rows, inserted) = match outcome {
        None => (None, Vec::new(), 0, None),
        Some(Outcome::Done { inserted }) => (None, Vec::new(), inserted as usize, Some(inserted)),
        Some(Outcome::Refused { sheet_error, cells, rows }) => (sheet_error, cells, rows, None),
    };
    let bad = sheet_error.is_some() || !cells.is_empty();
    let mut resp = render(&ImportPage {
        chrome: Chrome::new(me, v.nav, v.title),
        v,
        sheet_error,
        cells: cells.into_iter().take(1000).collect(),
        rows,
        inserted,
    })?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

/// The page when the form came without a file.
pub fn no_file(me: &CurrentUser, v: &ImportView) -> Result<Response, PageError> {
    page(me, v, Some(Outcome::refused("请选择要导入的 .xlsx 文件".into(), 0)))
}

/// The API's answer: 201 with the count, or 422 listing every bad cell.
pub fn api_answer(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Done { inserted } => {
            (StatusCode::CREATED, Json(serde_json::json!({"inserted": inserted}))).into_response()
        }
        Outcome::Refused { sheet_error, cells, rows } => {
            let detail =
                sheet_error.unwrap_or_else(|| format!("{rows} 行中发现 {} 处错误，整个文件均未写入", cells.len()));
            let cells: Vec<_> = cells.into_iter().take(1000).collect();
            problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "导入未通过校验",
                &detail,
                Some(serde_json::json!({"cells": cells})),
            )
        }
    }
}
