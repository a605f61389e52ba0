//! Extractors that turn a wrong content type or a malformed body into a clear 4xx with a Chinese
//! message instead of axum's English plain-text rejection.

use crate::error::{ApiError, AppError, PageError};
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// A urlencoded form for a page handler.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|f| PageForm(f.0))
            .map_err(|e| PageError(rejection(e.status().as_u16(), "表单")))
    }
}

/// A JSON body for an API handler.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e| ApiError(rejection(e.status().as_u16(), "JSON")))
    }
}

fn rejection(status: u16, what: &str) -> AppError {
    match status {
        413 => AppError::TooLarge,
        415 => AppError::BadRequest(format!("内容类型错误：请以 {what} 格式提交")),
        _ => AppError::BadRequest(format!("{what}内容无法解析：字段缺失或类型不符")),
    }
}
