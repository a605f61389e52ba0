//! Settlements of the enclave economy (税收分成结算): the months with their status and totals, drafting
//! (zone finance staff), review by another user, confirmation by leadership, and one month's
//! settlement per unit with the rows left unshared and why.

use super::{render, see_other};
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
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_store::{Error as StoreError, LedgerFilter, SettlementDetail, SettlementRow, SettlementStatus};
use serde::Deserialize;

/// The month of a path or form; a malformed one is a 400 with the reason.
pub fn parse_period(raw: &str) -> Result<Period, AppError> {
    Period::parse(raw).map_err(|e| AppError::BadRequest(format!("结算月份：{}", e.message)))
}

/// The month to suggest for the next draft: the month after the newest confirmed settlement, or the
/// oldest month of the ledger when none is confirmed yet.
pub async fn next_period(
    state: &AppState,
    me: &CurrentUser,
    list: &[SettlementRow],
) -> Result<Option<Period>, AppError> {
    let newest_confirmed = list
        .iter()
        .filter(|s| s.status == SettlementStatus::Confirmed)
        .filter_map(|s| Period::parse(&s.period).ok())
        .max();
    if let Some(p) = newest_confirmed {
        return Ok(Some(p.next()));
    }
    let totals = state.store.tax_totals(&me.scope, &LedgerFilter::default()).await?;
    Ok(totals.iter().filter_map(|t| Period::parse(&t.period).ok()).min())
}

/// What the current user may do with settlements.
pub struct Can {
    pub settle: bool,
    pub confirm: bool,
}

impl Can {
    pub fn of(me: &CurrentUser) -> Can {
        Can {
            settle: permits(me.user.role, Permission::SettleRevenue),
            confirm: permits(me.user.role, Permission::ConfirmSettlement),
        }
    }
}

#[derive(Template)]
#[template(path = "revenue_settlements.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<SettlementRow>,
    next: String,
    can: Can,
    error: Option<String>,
    /// The user sees only confirmed months and its own share.
    own_only: bool,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    ok: Option<String>,
}

async fn list_page(
    state: &AppState,
    me: &CurrentUser,
    ok: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let rows = state.store.settlements(&me.scope).await?;
    let can = Can::of(me);
    let next = if can.settle { next_period(state, me, &rows).await? } else { None };
    let status = error.as_ref().map(|(s, _)| *s);
    let mut resp = render(&ListPage {
        chrome: Chrome::new(me, "/revenue/settlements", "税收分成结算").notice(ok),
        next: next.map(|p| p.to_string()).unwrap_or_default(),
        own_only: dianxiaoer_store::own_unit(&me.scope).is_some(),
        rows,
        can,
        error: error.map(|(_, m)| m),
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    list_page(&state, &me, q.ok.as_deref(), None).await
}

/// The draft form.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct DraftForm {
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub period: String,
    /// The last month of a range to draft; empty for one month.
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub to: String,
}

/// A refusal the page shows above the list: bad input 400, a confirmed month 409.
fn refusal(e: AppError) -> Result<(StatusCode, String), PageError> {
    match e {
        AppError::BadRequest(m) => Ok((StatusCode::BAD_REQUEST, m)),
        AppError::Conflict(m) => Ok((StatusCode::CONFLICT, m)),
        other => Err(PageError(other)),
    }
}

pub async fn draft(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<DraftForm>,
) -> Result<Response, PageError> {
    let to = f.to.trim();
    let result = match (parse_period(&f.period), to) {
        (Ok(p), "") => state
            .store
            .draft_settlement(&me.actor(), &me.scope, p, state.now())
            .await
            .map(|s| format!("/revenue/settlements/{}?ok=drafted", s.period))
            .map_err(AppError::from),
        (Ok(p), to) => match Period::parse(to) {
            Ok(to) => state
                .store
                .draft_settlements(&me.actor(), &me.scope, p, to, state.now())
                .await
                .map(|_| "/revenue/settlements?ok=drafted_range".to_string())
                .map_err(AppError::from),
            Err(e) => Err(AppError::BadRequest(format!("结束月份：{}", e.message))),
        },
        (Err(e), _) => Err(e),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => list_page(&state, &me, None, Some(refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "revenue_settlement.html")]
struct DetailPage {
    chrome: Chrome,
    s: SettlementRow,
    d: SettlementDetail,
    can: Can,
    error: Option<String>,
    shown_all: bool,
}

async fn detail_page(
    state: &AppState,
    me: &CurrentUser,
    p: Period,
    ok: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let d = state.store.settlement_detail(&me.scope, p).await?;
    let status = error.as_ref().map(|(s, _)| *s);
    let mut resp = render(&DetailPage {
        chrome: Chrome::new(me, "/revenue/settlements", "结算明细").notice(ok),
        shown_all: d.unshared.len() as i64 >= d.settlement.unshared_count,
        s: d.settlement.clone(),
        d,
        can: Can::of(me),
        error: error.map(|(_, m)| m),
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

/// A month in a path: malformed months are simply not found.
fn path_period(raw: &str) -> Result<Period, AppError> {
    Period::parse(raw).map_err(|_| AppError::NotFound)
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(period): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    detail_page(&state, &me, path_period(&period)?, q.ok.as_deref(), None).await
}

pub async fn review(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(period): Path<String>,
) -> Result<Response, PageError> {
    let p = path_period(&period)?;
    match state.store.review_settlement(&me.actor(), &me.scope, p, state.now()).await {
        Ok(()) => Ok(see_other(&format!("/revenue/settlements/{p}?ok=reviewed"))),
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
            detail_page(&state, &me, p, None, Some(refusal(e.into())?)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(period): Path<String>,
) -> Result<Response, PageError> {
    let p = path_period(&period)?;
    match state.store.confirm_settlement(&me.actor(), &me.scope, p, state.now()).await {
        Ok(()) => Ok(see_other(&format!("/revenue/settlements/{p}?ok=confirmed"))),
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
            detail_page(&state, &me, p, None, Some(refusal(e.into())?)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Helpers for the templates.
pub fn status_class(s: impl std::borrow::Borrow<SettlementStatus>) -> &'static str {
    match s.borrow() {
        SettlementStatus::Draft => "tag",
        SettlementStatus::Reviewed => "tag warn",
        SettlementStatus::Confirmed => "tag good",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_parsed_with_reasons() {
        assert!(matches!(parse_period("2022-01"), Ok(p) if p.to_string() == "2022-01"));
        assert!(matches!(parse_period("2022-13"), Err(AppError::BadRequest(m)) if m.starts_with("结算月份")));
        assert!(matches!(path_period("x"), Err(AppError::NotFound)));
        assert_eq!(status_class(SettlementStatus::Confirmed), "tag good");
    }
}
