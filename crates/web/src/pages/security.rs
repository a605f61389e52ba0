//! Security administration: the password and session policy, locked accounts, forced sign-out.

use super::{FieldErrors, nonempty, paging, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::password::PasswordPolicy;
use dianxiaoer_store::{UserFilter, UserRow};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "security_policy.html")]
struct PolicyPage {
    chrome: Chrome,
    form: PolicyForm,
    errors: FieldErrors,
}

/// The policy as typed (strings, so a bad value is shown back as typed).
#[derive(Deserialize, Default)]
pub struct PolicyForm {
    #[serde(default)]
    pub min_length: String,
    #[serde(default)]
    pub min_classes: String,
    #[serde(default)]
    pub max_age_days: String,
    #[serde(default)]
    pub history: String,
    #[serde(default)]
    pub max_failures: String,
    #[serde(default)]
    pub lockout_minutes: String,
    #[serde(default)]
    pub idle_timeout_minutes: String,
    #[serde(default)]
    pub absolute_timeout_minutes: String,
}

impl PolicyForm {
    fn of(p: &PasswordPolicy) -> PolicyForm {
        PolicyForm {
            min_length: p.min_length.to_string(),
            min_classes: p.min_classes.to_string(),
            max_age_days: p.max_age_days.to_string(),
            history: p.history.to_string(),
            max_failures: p.max_failures.to_string(),
            lockout_minutes: p.lockout_minutes.to_string(),
            idle_timeout_minutes: p.idle_timeout_minutes.to_string(),
            absolute_timeout_minutes: p.absolute_timeout_minutes.to_string(),
        }
    }

    fn parse(&self) -> Result<PasswordPolicy, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut num = |name: &'static str, raw: &str| -> u32 {
            raw.trim().parse::<u32>().unwrap_or_else(|_| {
                errors.insert(name, "请填写非负整数".into());
                0
            })
        };
        let p = PasswordPolicy {
            min_length: num("min_length", &self.min_length),
            min_classes: num("min_classes", &self.min_classes),
            max_age_days: num("max_age_days", &self.max_age_days),
            history: num("history", &self.history),
            max_failures: num("max_failures", &self.max_failures),
            lockout_minutes: num("lockout_minutes", &self.lockout_minutes),
            idle_timeout_minutes: num("idle_timeout_minutes", &self.idle_timeout_minutes),
            absolute_timeout_minutes: num("absolute_timeout_minutes", &self.absolute_timeout_minutes),
        };
        if errors.is_empty()
            && let Err(errs) = p.validate()
        {
            for (field, m) in errs {
                errors.insert(field, m);
            }
        }
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }
}

fn policy_page(
    me: &CurrentUser,
    ok: Option<&str>,
    form: PolicyForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let mut resp =
        render(&PolicyPage { chrome: Chrome::new(me, "/security/policy", "安全策略").notice(ok), form, errors })?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

#[derive(Deserialize, Default)]
pub struct Ok_ {
    ok: Option<String>,
}

pub async fn policy_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<Ok_>,
) -> Result<Response, PageError> {
    policy_page(&me, q.ok.as_deref(), PolicyForm::of(&state.policy()), FieldErrors::new())
}

/// Saves the policy (validated in the core) and applies it at once.
pub async fn save_policy(state: &AppState, me: &CurrentUser, p: PasswordPolicy) -> Result<(), AppError> {
    state.store.set_policy(&me.actor(), &p, state.now()).await?;
    state.set_cached_policy(p);
    Ok(())
}

pub async fn policy_submit(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<PolicyForm>,
) -> Result<Response, PageError> {
    match f.parse() {
        Ok(p) => {
            save_policy(&state, &me, p).await?;
            Ok(see_other("/security/policy?ok=saved"))
        }
        Err(errors) => policy_page(&me, None, f, errors),
    }
}

#[derive(Template)]
#[template(path = "security_accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    lines: Vec<AccountLine>,
    pager: Pager,
    q: String,
}

struct AccountLine {
    u: UserRow,
    sessions: i64,
    locked: bool,
}

#[derive(Deserialize, Default)]
pub struct AccountsQuery {
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    ok: Option<String>,
}

pub async fn accounts(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<AccountsQuery>,
) -> Result<Response, PageError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let users = state.store.list_users(&UserFilter { q: nonempty(&q.q), role: None }, page, per_page).await?;
    let pager = Pager::new(&users, query_string(&[("q", q.q.as_deref().unwrap_or(""))]));
    let now = state.now();
    let mut lines = Vec::with_capacity(users.items.len());
    for u in users.items {
        let sessions = state.store.count_sessions(u.id).await?;
        lines.push(AccountLine { locked: u.is_locked(now), sessions, u });
    }
    render(&AccountsPage {
        chrome: Chrome::new(&me, "/security/accounts", "账号状态").notice(q.ok.as_deref()),
        lines,
        pager,
        q: q.q.unwrap_or_default(),
    })
}

pub async fn unlock(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.store.unlock_user(&me.actor(), id, state.now()).await?;
    Ok(see_other("/security/accounts?ok=unlocked"))
}

pub async fn end_sessions(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.store.user_by_id(id).await?;
    state.store.end_sessions(&me.actor(), id, state.now()).await?;
    Ok(see_other("/security/accounts?ok=ended"))
}
