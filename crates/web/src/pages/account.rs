//! The user's own account: password change, TOTP enrolment, API keys.

use super::{render, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, SESSION_COOKIE, hash_password, set_cookie, user_agent, verify_password};
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use dianxiaoer_core::password::PasswordPolicy;
use dianxiaoer_core::{text, totp};
use dianxiaoer_store::sessions::random_token;
use dianxiaoer_store::{ApiKeyRow, UserRow};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct Notice {
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    user: UserRow,
    keys: Vec<ApiKeyRow>,
    new_key: Option<String>,
    error: Option<String>,
}

async fn account_page(
    state: &AppState,
    me: &CurrentUser,
    notice: Option<&str>,
    new_key: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let keys = state.store.list_api_keys(me.user.id).await?;
    let chrome = Chrome::new(me, "/account", "我的账号").notice(notice);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut resp = render(&AccountPage { chrome, user: me.user.clone(), keys, new_key, error })?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn overview(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    account_page(&state, &me, n.ok.as_deref(), None, None).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

/// Creates an API key acting with the user's own role and scope. Admin roles may not: a key cannot
/// carry a second factor.
pub async fn create_key(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<KeyForm>,
) -> Result<Response, PageError> {
    match crate::api::new_key(&state, &me, &f.name).await {
        Ok(key) => account_page(&state, &me, None, Some(key), None).await,
        Err(AppError::BadRequest(m)) => account_page(&state, &me, None, None, Some(m)).await,
        Err(e) => Err(PageError(e)),
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.store.revoke_api_key(&me.actor(), me.user.id, id, state.now()).await?;
    Ok(see_other("/account?ok=revoked"))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    forced: bool,
    reason: &'static str,
    policy: PasswordPolicy,
    errors: PasswordErrors,
}

#[derive(Default)]
struct PasswordErrors {
    current: Option<String>,
    new_password: Option<String>,
    confirm: Option<String>,
}

fn password_page(state: &AppState, me: &CurrentUser, errors: PasswordErrors) -> Result<Response, PageError> {
    let forced = me.user.must_change_password || state.policy().is_expired(me.user.password_changed_at, state.now());
    let reason = if me.user.must_change_password {
        "这是首次登录或密码已被重置，请先设置您自己的密码。"
    } else {
        "密码已超过有效期，请修改密码。"
    };
    let bad = errors.current.is_some() || errors.new_password.is_some() || errors.confirm.is_some();
    let page = PasswordPage {
        chrome: Chrome::new(me, "/account", "修改密码"),
        forced,
        reason,
        policy: state.policy(),
        errors,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn password_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    password_page(&state, &me, PasswordErrors::default())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

/// Changes the password: current one verified, policy and history checked; every session ends and a
/// fresh one is issued for this browser.
pub async fn password_submit(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    headers: HeaderMap,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let policy = state.policy();
    let mut errors = PasswordErrors::default();
    if !verify_password(&f.current, &me.user.password_hash) {
        errors.current = Some("当前密码不正确".into());
    } else if let Err(m) = policy.check(&f.new_password, &me.user.username) {
        errors.new_password = Some(m);
    } else if f.new_password != f.confirm {
        errors.confirm = Some("两次输入的新密码不一致".into());
    } else {
        let history = state.store.password_history(me.user.id, policy.history.max(1)).await?;
        if history.iter().any(|h| verify_password(&f.new_password, h)) {
            errors.new_password = Some(format!("新密码不能与最近 {} 次使用过的密码相同", policy.history.max(1)));
        }
    }
    if errors.current.is_some() || errors.new_password.is_some() || errors.confirm.is_some() {
        return password_page(&state, &me, errors);
    }
    let hash = hash_password(&f.new_password)?;
    state.store.set_password(&me.actor(), me.user.id, &hash, false, now).await?;
    let token = random_token(32);
    let ua = user_agent(&headers);
    state.store.create_session(&token, me.user.id, &random_token(32), true, &me.ip, &ua, now).await?;
    let mut resp = see_other("/account?ok=password");
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, &token, None).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
struct TotpEnrol {
    csrf: String,
    secret: String,
    uri: String,
    required: bool,
    role_label: &'static str,
    error: Option<String>,
}

fn enrol_page(me: &CurrentUser, secret: String, error: Option<String>) -> Result<Response, PageError> {
    let uri = totp::otpauth_uri("沂水经开区店小二", &me.user.username, &secret);
    let bad = error.is_some();
    let page = TotpEnrol {
        csrf: me.csrf.clone(),
        secret,
        uri,
        required: me.user.role.is_admin(),
        role_label: me.user.role.label(),
        error,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

/// Enrolment. A user who already has a factor must pass the challenge first, so that enrolment can
/// never be used to skip it.
pub async fn totp_form(Extension(me): Extension<CurrentUser>) -> Result<Response, PageError> {
    if me.user.totp_enabled {
        return Ok(see_other("/login/totp"));
    }
    let mut raw = [0u8; 20];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    enrol_page(&me, totp::base32_encode(&raw), None)
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

pub async fn totp_submit(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<EnrolForm>,
) -> Result<Response, PageError> {
    if me.user.totp_enabled {
        return Ok(see_other("/login/totp"));
    }
    let now = state.now();
    let secret = text::required("密钥", &f.secret, 64).map_err(AppError::BadRequest)?;
    let Some(raw) = totp::base32_decode(&secret).filter(|r| r.len() >= 16) else {
        return Err(AppError::BadRequest("密钥格式错误".into()).into());
    };
    let Some(step) = totp::verify(&raw, f.code.trim(), now / 1000, None) else {
        return enrol_page(&me, secret, Some("动态口令不正确，请核对验证器中的时间和密钥后重试。".into()));
    };
    state.store.set_totp(&me.actor(), me.user.id, Some(&secret), Some(step), now).await?;
    if let Some(t) = &me.token {
        state.store.complete_mfa(t).await?;
    }
    Ok(see_other("/account?ok=totp"))
}
