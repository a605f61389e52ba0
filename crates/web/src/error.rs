//! One error type for handlers, rendered as a Chinese page or as an RFC 9457 problem document.
//! Internal errors are logged with the request and never shown (realworld-axum-sqlx `http/error.rs`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use dianxiaoer_store::Error as StoreError;

#[derive(Debug)]
pub enum AppError {
    Unauthorized,
    Forbidden,
    NotFound,
    BadRequest(String),
    Conflict(String),
    /// The role may not take this step on this record (403), with the reason.
    Denied(String),
    /// A business rule refuses the request as it stands (422), with the reason.
    Unprocessable(String),
    TooLarge,
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Denied(_) => StatusCode::FORBIDDEN,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "未登录或会话已失效",
            AppError::Forbidden => "无权访问",
            AppError::NotFound => "页面或记录不存在",
            AppError::BadRequest(_) => "请求有误",
            AppError::Conflict(_) => "数据冲突",
            AppError::Denied(_) => "无权办理",
            AppError::Unprocessable(_) => "无法办理",
            AppError::TooLarge => "提交的内容过大",
            AppError::Internal(_) => "服务器内部错误",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            AppError::Unauthorized => "请先登录。".into(),
            AppError::Forbidden => "您的角色没有这项权限。如需开通，请联系系统管理员。".into(),
            AppError::NotFound => "您要找的页面或记录不存在，或不在您的数据范围内。".into(),
            AppError::BadRequest(m) | AppError::Conflict(m) | AppError::Denied(m) | AppError::Unprocessable(m) => {
                m.clone()
            }
            AppError::TooLarge => "请求体超过了允许的大小。".into(),
            AppError::Internal(_) => "请求未能完成，已记录错误。请稍后重试或联系管理员。".into(),
        }
    }

    fn log(&self) {
        if let AppError::Internal(m) = self {
            tracing::error!(error = %m, "internal error");
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(m) => AppError::BadRequest(m),
            StoreError::Denied(m) => AppError::Denied(m),
            StoreError::Refused(m) => AppError::Unprocessable(m),
            other => AppError::Internal(format!("{other:?}")),
        }
    }
}

/// An error from a page handler: a Chinese HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        error_page(self.0.status(), self.0.title(), &self.0.detail())
    }
}

/// An error from an API handler: `application/problem+json` (RFC 9457).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        problem(self.0.status(), self.0.title(), &self.0.detail(), None)
    }
}

pub fn problem(status: StatusCode, title: &str, detail: &str, errors: Option<serde_json::Value>) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(errors), Some(obj)) = (errors, body.as_object_mut()) {
        obj.insert("errors".into(), errors);
    }
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}

pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let page = crate::view::ErrorPage { code: status.as_u16(), title, detail };
    let html = askama::Template::render(&page).unwrap_or_else(|_| title.to_string());
    (status, Html(html)).into_response()
}
