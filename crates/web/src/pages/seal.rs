//! The approval seal (审批专用章) for the security admin: the keys with their public key, fingerprint
//! and validity; generating the first key pair or rotating to a new one; the active key's validity
//! period. The private key is never shown (store: `seal.rs`). The API calls the same operations
//! (`api_seal.rs`).

use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::approval::Date;
use dianxiaoer_core::approval::certificate::Validity;
use dianxiaoer_store::SealKeyRow;
use serde::Deserialize;

/// The validity period as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ValidityForm {
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: String,
}

impl ValidityForm {
    /// The period, or the errors by field.
    pub fn parse(&self) -> Result<Validity, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut date = |field: &'static str, raw: &str| match Date::parse(raw) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.insert(field, e.to_string());
                None
            }
        };
        let (from, to) = (date("valid_from", &self.valid_from), date("valid_to", &self.valid_to));
        if let (Some(from), Some(to)) = (from, to) {
            match Validity::new(from, to) {
                Ok(v) => return Ok(v),
                Err(m) => {
                    errors.insert("valid_to", m);
                }
            }
        }
        Err(errors)
    }

    /// One message of all the errors, for the API.
    pub fn parse_api(&self) -> Result<Validity, AppError> {
        self.parse().map_err(|e| AppError::BadRequest(e.into_values().collect::<Vec<_>>().join("；")))
    }
}

#[derive(Template)]
#[template(path = "security_seal.html")]
struct SealPage {
    chrome: Chrome,
    keys: Vec<SealKeyRow>,
    active: Option<SealKeyRow>,
    /// The form that failed ("new" or "validity") with what was typed.
    failed: &'static str,
    form: ValidityForm,
    errors: FieldErrors,
    error: Option<String>,
    today: Date,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    ok: Option<&str>,
    failed: &'static str,
    form: ValidityForm,
    problem: Option<(StatusCode, FieldErrors, Option<String>)>,
) -> Result<Response, PageError> {
    let keys = state.store.seal_keys().await?;
    let active = keys.iter().find(|k| k.active).cloned();
    let status = problem.as_ref().map(|p| p.0);
    let (errors, error) = problem.map(|p| (p.1, p.2)).unwrap_or_default();
    let mut resp = render(&SealPage {
        chrome: Chrome::new(me, "/security/seal", "审批专用章").notice(ok),
        keys,
        active,
        failed,
        form,
        errors,
        error,
        today: Date::from_ms(state.now()),
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

pub async fn keys(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<OkQuery>,
) -> Result<Response, PageError> {
    page(&state, &me, q.ok.as_deref(), "", ValidityForm::default(), None).await
}

/// Generates a key pair (rotating out the active key, if any); page and API.
pub async fn rotate(state: &AppState, me: &CurrentUser, validity: Validity) -> Result<SealKeyRow, AppError> {
    Ok(state.store.rotate_seal_key(&me.actor(), validity, state.now()).await?)
}

/// Sets the active key's validity period; page and API.
pub async fn set_validity(state: &AppState, me: &CurrentUser, validity: Validity) -> Result<SealKeyRow, AppError> {
    Ok(state.store.set_seal_validity(&me.actor(), validity, state.now()).await?)
}

/// A refusal of the store shown on the page; anything else is an error page.
async fn refused(
    state: &AppState,
    me: &CurrentUser,
    failed: &'static str,
    form: ValidityForm,
    e: AppError,
) -> Result<Response, PageError> {
    match e {
        AppError::Unprocessable(_) | AppError::BadRequest(_) | AppError::Conflict(_) => {
            let problem = (e.status(), FieldErrors::new(), Some(e.detail()));
            page(state, me, None, failed, form, Some(problem)).await
        }
        e => Err(e.into()),
    }
}

pub async fn generate(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<ValidityForm>,
) -> Result<Response, PageError> {
    let validity = match f.parse() {
        Ok(v) => v,
        Err(errors) => {
            return page(&state, &me, None, "new", f, Some((StatusCode::BAD_REQUEST, errors, None))).await;
        }
    };
    match rotate(&state, &me, validity).await {
        Ok(_) => Ok(see_other("/security/seal?ok=seal_generated")),
        Err(e) => refused(&state, &me, "new", f, e).await,
    }
}

pub async fn validity(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<ValidityForm>,
) -> Result<Response, PageError> {
    let validity = match f.parse() {
        Ok(v) => v,
        Err(errors) => {
            return page(&state, &me, None, "validity", f, Some((StatusCode::BAD_REQUEST, errors, None))).await;
        }
    };
    match set_validity(&state, &me, validity).await {
        Ok(_) => Ok(see_other("/security/seal?ok=seal_validity")),
        Err(e) => refused(&state, &me, "validity", f, e).await,
    }
}

/// A fingerprint as shown (groups of four).
pub fn fp(raw: &str) -> String {
    dianxiaoer_core::seal::fingerprint_grouped(raw)
}

/// The active key's state today: (tag class, label).
pub fn state_of(k: &SealKeyRow, today: &Date) -> (&'static str, &'static str) {
    let day = today.to_string();
    if k.valid_to < day {
        ("bad", "已过期，不能签章")
    } else if k.valid_from > day {
        ("warn", "尚未启用")
    } else {
        ("good", "在用")
    }
}
