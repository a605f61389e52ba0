//! Documents of a case: the upload form on the case page (multipart; the CSRF token in the query
//! string, as for every upload) and downloads, served as attachments with `nosniff` so a browser
//! never renders an uploaded file as a page. The JSON API uploads through the same store operation.

use super::approval_cases::{case_page, with_caller};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, PageError};
use axum::Extension;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dianxiaoer_core::approval::document::DocumentKind;
use dianxiaoer_store::{DocumentRow, DocumentUpload};

/// Reads the multipart fields `material` and `file`.
async fn read_upload(mp: &mut Multipart) -> Result<DocumentUpload, AppError> {
    let mut up = DocumentUpload { material: String::new(), file_name: String::new(), bytes: Vec::new() };
    while let Some(field) = mp.next_field().await.map_err(|_| AppError::TooLarge)? {
        match field.name() {
            Some("material") => up.material = field.text().await.map_err(|_| AppError::TooLarge)?,
            Some("file") => {
                up.file_name = field.file_name().unwrap_or_default().chars().take(300).collect();
                up.bytes = field.bytes().await.map_err(|_| AppError::TooLarge)?.to_vec();
            }
            _ => {}
        }
    }
    if up.bytes.is_empty() && up.file_name.is_empty() {
        return Err(AppError::BadRequest("请选择要上传的文件（字段 file）".into()));
    }
    Ok(up)
}

/// Uploads a document to a case (page and API).
pub async fn add(state: &AppState, me: &CurrentUser, id: i64, up: &DocumentUpload) -> Result<DocumentRow, AppError> {
    Ok(with_caller!(me, |caller| state.store.add_case_document(&caller, id, up, state.now()).await?))
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let outcome = match read_upload(&mut mp).await {
        Ok(up) => add(&state, &me, id, &up).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(super::see_other(&format!("/approval/cases/{id}?ok=document"))),
        Err(e @ (AppError::BadRequest(_) | AppError::Unprocessable(_))) => {
            case_page(&state, &me, id, None, Some((e.status(), e.detail())), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn api_upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> Result<Response, ApiError> {
    let up = read_upload(&mut mp).await?;
    let row = add(&state, &me, id, &up).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

/// The file, as an attachment (page and API).
pub async fn download(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (row, bytes) = state.store.case_document(&me.scope, id, doc).await.map_err(AppError::from)?;
    let kind = DocumentKind::parse(&row.kind).unwrap_or(DocumentKind::Pdf);
    let disposition = format!(
        "attachment; filename=\"document-{}.{}\"; filename*=UTF-8''{}",
        row.id,
        kind.code(),
        encode(&row.file_name)
    );
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.content_type()));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// RFC 5987 percent-encoding of a file name.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// "1.2 MB", "35 KB".
pub fn size_text(bytes: &i64) -> String {
    let b = *bytes;
    if b >= 1024 * 1024 { format!("{:.1} MB", b as f64 / 1_048_576.0) } else { format!("{} KB", (b + 1023) / 1024) }
}
