//! Authentication and the per-route guard: session or API key → current user → gates (second factor,
//! forced password change) → function-level permission → CSRF. Deny by default (security.md 8.1.4).

use crate::AppState;
use crate::error::{AppError, error_page, problem};
use crate::routes::{Gate, Guard};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use dianxiaoer_core::access::{Scope, permits};
use dianxiaoer_store::{Actor, UserRow};
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "dxe_session";
pub const LOGIN_CSRF_COOKIE: &str = "dxe_login";

/// Argon2id with the crate's defaults (19 MiB, 2 passes; OWASP's minimum for Argon2id).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A hash of a random password, verified against when the username is unknown so that the answer
/// takes as long as for a known one (no user enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&dianxiaoer_store::sessions::random_token(16)).unwrap_or_default())
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRow,
    pub scope: Scope,
    pub csrf: String,
    /// The session token (absent for API-key requests).
    pub token: Option<String>,
    pub ip: String,
    /// The second factor is still to be given in this session.
    pub mfa_pending: bool,
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            username: self.user.username.clone(),
            role: self.user.role.code().into(),
            ip: self.ip.clone(),
        }
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}")
}

pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.config.trust_proxy
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return ip.to_string();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

pub fn user_agent(headers: &HeaderMap) -> String {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(256).collect()
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

enum Resolved {
    User(Box<CurrentUser>, Option<String>),
    Anonymous,
    Expired,
}

async fn resolve(state: &AppState, headers: &HeaderMap, ip: &str, api: bool) -> Result<Resolved, AppError> {
    let now = state.now();
    if api
        && let Some(key) =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        let Some(uid) = state.store.api_key_user(key.trim(), now).await? else {
            return Ok(Resolved::Anonymous);
        };
        let user = state.store.user_by_id(uid).await?;
        if user.disabled || user.role.is_admin() {
            return Ok(Resolved::Anonymous);
        }
        let scope = user.scope();
        return Ok(Resolved::User(
            Box::new(CurrentUser { user, scope, csrf: String::new(), token: None, ip: ip.into(), mfa_pending: false }),
            None,
        ));
    }
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| t.len() == 64) else {
        return Ok(Resolved::Anonymous);
    };
    let Some((session, user)) = state.store.session_user(&token).await? else {
        return Ok(Resolved::Expired);
    };
    let policy = state.policy();
    let idle = i64::from(policy.idle_timeout_minutes) * 60_000;
    let absolute = i64::from(policy.absolute_timeout_minutes) * 60_000;
    if now - session.last_seen_at > idle || now - session.created_at > absolute {
        state.store.delete_session(&token).await?;
        return Ok(Resolved::Expired);
    }
    if user.disabled {
        state.store.delete_session(&token).await?;
        return Ok(Resolved::Expired);
    }
    // Activity is written at most once a minute: a write per request would serialise every page
    // behind SQLite's single writer. Best effort: behind a long import or a year's settlement the
    // write can time out waiting for SQLite's lock, and the request need not fail for it (the session
    // only looks idle a minute longer).
    if now - session.last_seen_at >= 60_000
        && let Err(e) = state.store.touch_session(&token, now).await
    {
        tracing::warn!(error = %e, "session activity not recorded");
    }
    let pending = if !session.mfa_done {
        Some("mfa".to_string())
    } else if user.must_change_password || policy.is_expired(user.password_changed_at, now) && !user.demo {
        Some("password".to_string())
    } else {
        None
    };
    let scope = user.scope();
    Ok(Resolved::User(
        Box::new(CurrentUser {
            user,
            scope,
            csrf: session.csrf_token,
            token: Some(token),
            ip: ip.into(),
            mfa_pending: !session.mfa_done,
        }),
        pending,
    ))
}

fn deny(api: bool, e: AppError) -> Response {
    if api { problem(e.status(), e.title(), &e.detail(), None) } else { error_page(e.status(), e.title(), &e.detail()) }
}

/// The guard in front of every route of the table.
pub async fn guard(State((state, g)): State<(AppState, Guard)>, req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = client_ip(&state, req.headers(), peer);
    let Some(permission) = g.permission else {
        return next.run(req).await;
    };
    let resolved = match resolve(&state, req.headers(), &ip, g.api).await {
        Ok(r) => r,
        Err(e) => return deny(g.api, e),
    };
    let (current, pending) = match resolved {
        Resolved::User(u, p) => (*u, p),
        Resolved::Anonymous | Resolved::Expired if g.api => {
            return deny(true, AppError::Unauthorized);
        }
        Resolved::Anonymous => return Redirect::to("/login").into_response(),
        Resolved::Expired => return Redirect::to("/login?expired=1").into_response(),
    };
    match (pending.as_deref(), g.gate) {
        (None, _) | (Some(_), Gate::Any) => {}
        (Some("mfa"), Gate::PendingMfa) => {}
        (Some("password"), Gate::PendingPassword) => {}
        (Some("mfa"), _) if g.api => return deny(true, AppError::Unauthorized),
        (Some("mfa"), _) => {
            let to = if current.user.totp_enabled { "/login/totp" } else { "/account/totp" };
            return Redirect::to(to).into_response();
        }
        (Some(_), _) if g.api => {
            return deny(true, AppError::BadRequest("首次登录或密码已过期，请先在网页上修改密码".into()));
        }
        (Some(_), _) => return Redirect::to("/account/password").into_response(),
    }
    if !permits(current.user.role, permission) {
        return deny(g.api, AppError::Forbidden);
    }
    let mut req = req;
    if req.method() != Method::GET && req.method() != Method::HEAD && current.token.is_some() {
        let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let ok = match header_token {
            Some(t) => same_token(&t, &current.csrf),
            None if g.api => false,
            // A file upload carries the token in the query string (a form cannot set headers, and the
            // body is not read here).
            None if is_multipart(req.headers()) => req
                .uri()
                .query()
                .and_then(|q| form_field(q.as_bytes(), "_csrf"))
                .is_some_and(|t| same_token(&t, &current.csrf)),
            None => {
                let (parts, body) = req.into_parts();
                let bytes = match to_bytes(body, state.config.body_limit).await {
                    Ok(b) => b,
                    Err(_) => return deny(false, AppError::TooLarge),
                };
                let ok = form_field(&bytes, "_csrf").is_some_and(|t| same_token(&t, &current.csrf));
                req = Request::from_parts(parts, Body::from(bytes));
                ok
            }
        };
        if !ok {
            tracing::warn!(user = %current.user.username, ip = %ip, path = %req.uri().path(), "CSRF token rejected");
            let e = AppError::BadRequest("安全令牌无效或已过期，请刷新页面后重试".into());
            let mut resp = deny(g.api, e);
            *resp.status_mut() = StatusCode::FORBIDDEN;
            return resp;
        }
    }
    req.extensions_mut().insert(current);
    next.run(req).await
}

fn is_multipart(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// One field of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
