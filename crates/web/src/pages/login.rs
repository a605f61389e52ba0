//! Sign-in, the TOTP challenge and sign-out (security.md 8.1.4.1).

use super::{render, see_other};
use crate::AppState;
use crate::auth::{
    CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE, client_ip, cookie, dummy_hash, same_token, set_cookie, user_agent,
    verify_password,
};
use crate::error::PageError;
use crate::form::PageForm;
use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use dianxiaoer_core::totp;
use dianxiaoer_store::sessions::random_token;
use dianxiaoer_store::{Actor, AuditEntry};
use serde::Deserialize;
use std::net::SocketAddr;

/// The demo accounts shown on the login page in demo mode (username, role label).
pub const DEMO_PASSWORD: &str = "Demo@2026";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    error: Option<String>,
    expired: bool,
    demo: bool,
    demo_password: &'static str,
    demo_accounts: Vec<(String, &'static str)>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

async fn login_page(
    state: &AppState,
    username: String,
    error: Option<String>,
    expired: bool,
) -> Result<Response, PageError> {
    let csrf = random_token(16);
    let failed = error.is_some();
    let demo_accounts = if state.config.demo {
        let users = state.store.list_users(&dianxiaoer_store::UserFilter::default(), 1, 50).await?;
        users.items.iter().filter(|u| u.demo).map(|u| (u.username.clone(), u.role.label())).collect()
    } else {
        Vec::new()
    };
    let page = LoginPage {
        csrf: csrf.clone(),
        username,
        error,
        expired,
        demo: state.config.demo,
        demo_password: DEMO_PASSWORD,
        demo_accounts,
    };
    let mut resp = render(&page)?;
    if let Ok(v) = set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, Some(1800)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    if failed {
        *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    }
    Ok(resp)
}

pub async fn form(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Result<Response, PageError> {
    login_page(&state, String::new(), None, q.expired.is_some()).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// Checks the password, the lock and the account state; logs every outcome with IP and user agent.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    PageForm(f): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let ip = client_ip(&state, &headers, Some(peer));
    let ua = user_agent(&headers);
    let username: String = f.username.trim().chars().take(64).collect();
    let pre = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if pre.is_empty() || !same_token(&pre, &f.csrf) {
        state.store.log_login(&username, None, &ip, &ua, false, "安全令牌无效", now).await?;
        return login_page(&state, username, Some("页面已过期，请重新输入后登录。".into()), false).await;
    }
    if username.is_empty() || f.password.is_empty() || f.password.chars().count() > 128 {
        return login_page(&state, username, Some("请输入用户名和密码。".into()), false).await;
    }
    let policy = state.policy();
    let fail = |reason: &'static str, uid: Option<i64>| {
        let state = state.clone();
        let (username, ip, ua) = (username.clone(), ip.clone(), ua.clone());
        async move {
            state.metrics.logins_failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            state.store.log_login(&username, uid, &ip, &ua, false, reason, now).await
        }
    };
    let Some(user) = state.store.user_by_username(&username).await? else {
        let _ = verify_password(&f.password, dummy_hash());
        fail("用户名不存在", None).await?;
        return login_page(&state, username, Some("用户名或密码错误。".into()), false).await;
    };
    if user.is_locked(now) {
        fail("账号锁定中", Some(user.id)).await?;
        let minutes = (user.locked_until.unwrap_or(now) - now + 59_999) / 60_000;
        let msg = format!("登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试，或联系安全管理员解锁。");
        return login_page(&state, username, Some(msg), false).await;
    }
    if !verify_password(&f.password, &user.password_hash) {
        let failures = u32::try_from(user.failed_logins + 1).unwrap_or(u32::MAX);
        let lock = policy.locked_until(failures, now);
        state.store.record_login_failure(user.id, lock).await?;
        fail("密码错误", Some(user.id)).await?;
        let msg = match lock {
            Some(_) => format!(
                "用户名或密码错误。失败次数已达 {} 次，账号锁定 {} 分钟。",
                policy.max_failures, policy.lockout_minutes
            ),
            None => "用户名或密码错误。".to_string(),
        };
        return login_page(&state, username, Some(msg), false).await;
    }
    if user.disabled {
        fail("账号已停用", Some(user.id)).await?;
        return login_page(&state, username, Some("账号已停用，请联系系统管理员。".into()), false).await;
    }
    state.store.clear_login_failures(user.id).await?;
    let needs_mfa = user.totp_enabled || user.role.is_admin();
    let token = random_token(32);
    state.store.create_session(&token, user.id, &random_token(32), !needs_mfa, &ip, &ua, now).await?;
    state
        .store
        .log_login(
            &username,
            Some(user.id),
            &ip,
            &ua,
            true,
            if needs_mfa { "密码正确，待动态口令" } else { "登录成功" },
            now,
        )
        .await?;
    state.metrics.logins_ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let to = if user.totp_enabled {
        "/login/totp"
    } else if user.role.is_admin() {
        "/account/totp"
    } else {
        "/"
    };
    let mut resp = see_other(to);
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, &token, None).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = set_cookie(&state, LOGIN_CSRF_COOKIE, "", Some(0)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "totp_challenge.html")]
struct TotpChallenge {
    csrf: String,
    user_name: String,
    error: Option<String>,
}

pub async fn totp_form(Extension(me): Extension<CurrentUser>) -> Result<Response, PageError> {
    if !me.mfa_pending {
        return Ok(see_other("/"));
    }
    if !me.user.totp_enabled {
        return Ok(see_other("/account/totp"));
    }
    render(&TotpChallenge { csrf: me.csrf, user_name: me.user.display_name, error: None })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Verifies the code; a wrong code counts as a login failure towards the lock.
pub async fn totp_submit(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    headers: HeaderMap,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    if !me.mfa_pending {
        return Ok(see_other("/"));
    }
    let now = state.now();
    let ua = user_agent(&headers);
    let Some(secret) = me.user.totp_secret.as_deref().and_then(totp::base32_decode) else {
        return Ok(see_other("/account/totp"));
    };
    let step = totp::verify(&secret, f.code.trim(), now / 1000, me.user.totp_last_step);
    let accepted = match step {
        Some(s) => state.store.use_totp_step(me.user.id, s).await?,
        None => false,
    };
    if !accepted {
        let policy = state.policy();
        let failures = u32::try_from(me.user.failed_logins + 1).unwrap_or(u32::MAX);
        let lock = policy.locked_until(failures, now);
        state.store.record_login_failure(me.user.id, lock).await?;
        state.store.log_login(&me.user.username, Some(me.user.id), &me.ip, &ua, false, "动态口令错误", now).await?;
        if lock.is_some() {
            if let Some(t) = &me.token {
                state.store.delete_session(t).await?;
            }
            return Ok(see_other("/login"));
        }
        let page = TotpChallenge {
            csrf: me.csrf,
            user_name: me.user.display_name,
            error: Some("动态口令错误或已使用过，请输入验证器中的新口令。".into()),
        };
        let mut resp = render(&page)?;
        *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return Ok(resp);
    }
    if let Some(t) = &me.token {
        state.store.complete_mfa(t).await?;
    }
    state.store.clear_login_failures(me.user.id).await?;
    state.store.log_login(&me.user.username, Some(me.user.id), &me.ip, &ua, true, "动态口令验证通过", now).await?;
    Ok(see_other("/"))
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    let now = state.now();
    if let Some(t) = &me.token {
        state.store.delete_session(t).await?;
    }
    let actor: Actor = me.actor();
    state.store.audit_alone(&actor, AuditEntry::ok("logout", "user", me.user.id), now).await?;
    let mut resp = see_other("/login");
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, "", Some(0)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp.into_response())
}
