//! Configuration the settlement reads: the county-retained share per tax type with dates (县级留成比例,
//! for rows whose sheet carries no 预算分配比例), and moving a project to another host town.

use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::revenue::party::TownCode;
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::tax::{RetainedShare, RetainedShareRule, TaxType};
use dianxiaoer_store::RetainedRuleRow;
use serde::Deserialize;

/// The rule form as typed.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RawRule {
    /// 增值税, 10101, 教育费附加 …
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub tax_type: String,
    /// "30%" or a 预算分配比例.
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub share: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub from: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub to: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub note: String,
}

/// The rule and its note, or the errors by field.
pub fn parse_rule(raw: &RawRule) -> Result<(RetainedShareRule, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let tax_type = TaxType::parse(&raw.tax_type).map_err(|e| errors.insert("tax_type", e.message)).ok();
    let share = RetainedShare::parse(&raw.share).map_err(|e| errors.insert("share", e.message)).ok();
    let from = Period::parse(&raw.from).map_err(|e| errors.insert("from", e.message)).ok();
    let to = match raw.to.trim() {
        "" => None,
        t => Period::parse(t).map_err(|e| errors.insert("to", e.message)).ok(),
    };
    let note = raw.note.trim().to_string();
    if note.chars().count() > 100 {
        errors.insert("note", "说明不能超过 100 个字".into());
    }
    if !raw.to.trim().is_empty() && to.is_none() {
        return Err(errors);
    }
    match (tax_type, share, from, errors.is_empty()) {
        (Some(t), Some(s), Some(f), true) => {
            RetainedShareRule::new(t, s, f, to).map(|r| (r, note)).map_err(|e| FieldErrors::from([("to", e.message)]))
        }
        _ => Err(errors),
    }
}

#[derive(Template)]
#[template(path = "revenue_retained.html")]
struct RulesPage {
    chrome: Chrome,
    rules: Vec<RetainedRuleRow>,
    can_edit: bool,
    form: RawRule,
    errors: FieldErrors,
    error: Option<String>,
    known: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    ok: Option<String>,
}

async fn rules_page(
    state: &AppState,
    me: &CurrentUser,
    ok: Option<&str>,
    form: RawRule,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty() || error.is_some();
    let mut resp = render(&RulesPage {
        chrome: Chrome::new(me, "/revenue/retained-shares", "县级留成比例").notice(ok),
        rules: state.store.retained_share_rules().await?,
        can_edit: permits(me.user.role, Permission::SettleRevenue),
        form,
        errors,
        error,
        known: TaxType::known_list(),
    })?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    rules_page(&state, &me, q.ok.as_deref(), RawRule::default(), FieldErrors::new(), None).await
}

pub async fn add(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<RawRule>,
) -> Result<Response, PageError> {
    let (rule, note) = match parse_rule(&f) {
        Ok(r) => r,
        Err(errors) => return rules_page(&state, &me, None, f, errors, None).await,
    };
    match state.store.add_retained_share_rule(&me.actor(), &me.scope, &rule, &note, state.now()).await {
        Ok(_) => Ok(see_other("/revenue/retained-shares?ok=saved")),
        Err(dianxiaoer_store::Error::Invalid(m)) => rules_page(&state, &me, None, f, FieldErrors::new(), Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

/// The host-move form.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RawMove {
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub host_town: String,
    /// The first month hosted by the new town.
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub from: String,
}

pub fn parse_move(raw: &RawMove) -> Result<(TownCode, Period), String> {
    let town = TownCode::parse(&raw.host_town).map_err(|e| format!("新落地乡镇：{}", e.message))?;
    let from = Period::parse(&raw.from).map_err(|e| format!("变更月份：{}", e.message))?;
    Ok((town, from))
}

/// Moves a project to another host town; errors come back as a 400 page with the reason.
pub async fn move_host(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<RawMove>,
) -> Result<Response, PageError> {
    state.store.project(&me.scope, id).await?;
    let (town, from) = parse_move(&f).map_err(AppError::BadRequest)?;
    state.store.move_project_host(&me.actor(), &me.scope, id, &town, from, state.now()).await?;
    Ok(see_other(&format!("/revenue/projects/{id}?ok=saved")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn raw(t: &str, s: &str, from: &str, to: &str) -> RawRule {
        RawRule { tax_type: t.into(), share: s.into(), from: from.into(), to: to.into(), note: String::new() }
    }

    #[test]
    fn parses_rules_with_errors_by_field() {
        let (r, _) = parse_rule(&raw("国内增值税", "中央50%,省10%,市10%,县30%", "2024-01", "")).unwrap();
        assert_eq!((r.tax_type().name(), r.share().basis_points()), ("增值税", 3000));
        let e = parse_rule(&raw("", "130%", "2024-13", "")).unwrap_err();
        assert_eq!(e.keys().copied().collect::<Vec<_>>(), ["from", "share", "tax_type"]);
        let e = parse_rule(&raw("教育费附加", "100%", "2024-05", "2024-01")).unwrap_err();
        assert!(e["to"].contains("早于"));
        assert!(parse_rule(&raw("教育费附加", "100%", "2024-05", "x")).unwrap_err().contains_key("to"));
        assert!(parse_move(&RawMove { host_town: "371323".into(), from: "2024-01".into() }).is_err());
        let (t, p) = parse_move(&RawMove { host_town: "371323103".into(), from: "2024-01".into() }).unwrap();
        assert_eq!((t.as_str(), p.to_string().as_str()), ("371323103", "2024-01"));
    }
}
