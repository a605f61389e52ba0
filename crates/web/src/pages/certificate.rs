//! The certificate (批准文书) of an approved case, printable on A4 with the zone's approval seal and
//! its verification code, and the public verification page (批准文书核验, no login): anyone who holds
//! a printed certificate types its code and sees 有效 with the content, 已撤销, 已被篡改 or 不存在
//! (store: `certificates.rs`).

use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use dianxiaoer_core::approval::certificate::{SEAL_NAME, parse_code, term_of};
use dianxiaoer_store::{CertificateRow, Verification};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "approval_certificate.html")]
struct CertificatePage {
    chrome: Chrome,
    c: CertificateRow,
    seal_name: &'static str,
    /// The legal basis of the term, when the law sets one.
    term_basis: Option<&'static str>,
    verify_url: String,
}

/// Where the printed code can be checked: this server's verification page.
fn verify_url(headers: &HeaderMap, code: &str, secure: bool) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| {
        !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    });
    match host {
        Some(h) => format!("{}://{h}/verify?code={code}", if secure { "https" } else { "http" }),
        None => format!("/verify?code={code}"),
    }
}

/// The certificate of a case in scope; 404 while the case has none.
pub async fn certificate_of(state: &AppState, me: &CurrentUser, id: i64) -> Result<CertificateRow, AppError> {
    state.store.case_certificate(&me.scope, id).await?.ok_or(AppError::NotFound)
}

pub async fn page(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let c = certificate_of(&state, &me, id).await?;
    let verify_url = verify_url(&headers, &c.code_grouped, state.config.secure_cookies);
    render(&CertificatePage {
        chrome: Chrome::new(&me, "/approval/cases", "批准文书"),
        term_basis: term_of(&c.content.item_code).map(|(_, b)| b),
        c,
        seal_name: SEAL_NAME,
        verify_url,
    })
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    title: &'static str,
    code: String,
    error: Option<String>,
    result: Option<Verification>,
}

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    code: Option<String>,
}

/// The verification of a typed code (page and API): a malformed code is a 400 with the reason.
pub async fn verify_code(state: &AppState, raw: &str) -> Result<Verification, AppError> {
    let code = parse_code(raw).map_err(AppError::BadRequest)?;
    Ok(state.store.verify_certificate(&code).await?)
}

pub async fn verify(State(state): State<AppState>, Query(q): Query<VerifyQuery>) -> Result<Response, PageError> {
    let typed = q.code.unwrap_or_default();
    let (result, error, status) = if typed.trim().is_empty() {
        (None, None, StatusCode::OK)
    } else {
        match verify_code(&state, &typed).await {
            Ok(v) => (Some(v), None, StatusCode::OK),
            Err(AppError::BadRequest(m)) => (None, Some(m), StatusCode::BAD_REQUEST),
            Err(e) => return Err(e.into()),
        }
    };
    let mut resp = render(&VerifyPage { title: "批准文书核验", code: typed.trim().to_owned(), error, result })?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// "2026-03-02 10:15:00" for a template.
pub fn when(ms: &i64) -> String {
    crate::view::ts(*ms)
}

/// 长期有效, or the last day.
pub fn until_text(until: &str) -> String {
    if until.is_empty() { "长期有效".into() } else { until.to_owned() }
}
