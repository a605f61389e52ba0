//! The approval seal in the JSON API: the security admin's keys (public parts only), generating or
//! rotating a key, the active key's validity; a case's certificate within scope; and the public
//! verification of a code (no login). Each calls the same operation as its page.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::form::ApiJson;
use crate::pages::certificate::{certificate_of, verify_code};
use crate::pages::seal::{ValidityForm, rotate, set_validity};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use dianxiaoer_store::{CertificateRow, SealKeyRow, Verification};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Every seal key, the active one first: fingerprint, public key, validity; never the private key.
pub async fn keys(State(state): State<AppState>) -> ApiResult<Vec<SealKeyRow>> {
    Ok(Json(state.store.seal_keys().await?))
}

/// Generates a key pair valid `valid_from`..`valid_to` and makes it the active key (201); the
/// active key, if any, is rotated out and kept for verification.
pub async fn generate(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(f): ApiJson<ValidityForm>,
) -> Result<Response, ApiError> {
    let key = rotate(&state, &me, f.parse_api()?).await?;
    Ok((StatusCode::CREATED, Json(key)).into_response())
}

/// Sets the active key's validity period.
pub async fn validity(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(f): ApiJson<ValidityForm>,
) -> ApiResult<SealKeyRow> {
    Ok(Json(set_validity(&state, &me, f.parse_api()?).await?))
}

/// The certificate of a case in scope (404 while it has none).
pub async fn certificate(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<CertificateRow> {
    Ok(Json(certificate_of(&state, &me, id).await?))
}

/// Verifies a printed code: `status` valid, revoked, altered or unknown, with the content only when
/// the certificate is genuine.
pub async fn verify(State(state): State<AppState>, Path(code): Path<String>) -> ApiResult<Verification> {
    Ok(Json(verify_code(&state, &code).await?))
}
