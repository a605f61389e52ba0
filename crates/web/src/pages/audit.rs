//! The audit admin's pages: audit and login logs with filters and Excel export, chain verification.

use super::{nonempty, paging, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::view::{Chrome, Pager, query_string};
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use dianxiaoer_core::when::parse_date;
use dianxiaoer_store::{AuditEntry, AuditFilter, AuditRow, ChainReport, LoginFilter, LoginRow, Page};
use serde::Deserialize;

/// Filters of both log pages, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct LogQuery {
    pub username: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub result: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl LogQuery {
    pub fn audit_filter(&self) -> AuditFilter {
        AuditFilter {
            username: nonempty(&self.username),
            action: nonempty(&self.action),
            object_type: nonempty(&self.object_type),
            object_id: nonempty(&self.object_id),
            from_ms: self.from.as_deref().and_then(parse_date),
            to_ms: self.to.as_deref().and_then(parse_date).map(|d| d + 86_400_000),
        }
    }

    pub fn login_filter(&self) -> LoginFilter {
        LoginFilter {
            username: nonempty(&self.username),
            result: nonempty(&self.result),
            from_ms: self.from.as_deref().and_then(parse_date),
            to_ms: self.to.as_deref().and_then(parse_date).map(|d| d + 86_400_000),
        }
    }

    fn base(&self) -> String {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        let (u, a, t, i, r, f, to) = (
            s(&self.username),
            s(&self.action),
            s(&self.object_type),
            s(&self.object_id),
            s(&self.result),
            s(&self.from),
            s(&self.to),
        );
        query_string(&[
            ("username", &u),
            ("action", &a),
            ("object_type", &t),
            ("object_id", &i),
            ("result", &r),
            ("from", &f),
            ("to", &to),
        ])
    }
}

#[derive(Template)]
#[template(path = "audit_logs.html")]
struct LogsPage {
    chrome: Chrome,
    rows: Page<AuditRow>,
    pager: Pager,
    q: LogQuery,
    export: String,
    report: Option<ChainReport>,
}

pub async fn logs(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    logs_page(&state, &me, q, None).await
}

async fn logs_page(
    state: &AppState,
    me: &CurrentUser,
    q: LogQuery,
    report: Option<ChainReport>,
) -> Result<Response, PageError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = state.store.list_audit(&q.audit_filter(), page, per_page).await?;
    let base = q.base();
    let pager = Pager::new(&rows, base.clone());
    render(&LogsPage { chrome: Chrome::new(me, "/audit/logs", "审计日志"), rows, pager, q, export: base, report })
}

/// Most rows one export may hold; a larger request is narrowed by the filters.
const EXPORT_MAX: i64 = 200_000;

pub async fn logs_xlsx(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    let f = q.audit_filter();
    let rows = state.store.export_audit(&f, EXPORT_MAX).await?;
    let headers = [
        ("序号", 8.0),
        ("时间", 20.0),
        ("用户", 14.0),
        ("角色", 14.0),
        ("IP", 16.0),
        ("操作", 20.0),
        ("对象类型", 12.0),
        ("对象", 12.0),
        ("结果", 8.0),
        ("详情", 60.0),
        ("哈希", 66.0),
    ];
    let n = rows.len();
    let bytes = workbook(
        "审计日志",
        &headers,
        rows.into_iter().map(|r| {
            vec![
                Cell::Int(r.seq),
                Cell::Time(r.at),
                Cell::Text(r.username),
                Cell::Text(r.role),
                Cell::Text(r.ip),
                Cell::Text(r.action),
                Cell::Text(r.object_type),
                Cell::Text(r.object_id),
                Cell::Text(r.result),
                Cell::Text(r.detail),
                Cell::Text(r.hash),
            ]
        }),
    )?;
    let entry = AuditEntry::ok("export", "audit_log", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "audit-log.xlsx"))
}

#[derive(Template)]
#[template(path = "audit_logins.html")]
struct LoginsPage {
    chrome: Chrome,
    rows: Page<LoginRow>,
    pager: Pager,
    q: LogQuery,
    export: String,
}

pub async fn logins(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = state.store.list_logins(&q.login_filter(), page, per_page).await?;
    let base = q.base();
    let pager = Pager::new(&rows, base.clone());
    render(&LoginsPage { chrome: Chrome::new(&me, "/audit/logins", "登录日志"), rows, pager, q, export: base })
}

pub async fn logins_xlsx(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    let rows = state.store.export_logins(&q.login_filter(), EXPORT_MAX).await?;
    let headers = [("时间", 20.0), ("用户名", 16.0), ("IP", 16.0), ("结果", 8.0), ("原因", 24.0), ("浏览器", 60.0)];
    let n = rows.len();
    let bytes = workbook(
        "登录日志",
        &headers,
        rows.into_iter().map(|r| {
            vec![
                Cell::Time(r.at),
                Cell::Text(r.username),
                Cell::Text(r.ip),
                Cell::Text(r.result),
                Cell::Text(r.reason),
                Cell::Text(r.user_agent),
            ]
        }),
    )?;
    let entry = AuditEntry::ok("export", "login_log", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "login-log.xlsx"))
}

/// Verifies the whole chain and shows the result above the log.
pub async fn verify(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    let report = state.store.verify_audit_chain().await?;
    let entry = AuditEntry::ok("verify_audit_chain", "audit_log", "all")
        .detail(serde_json::json!({"checked": report.checked, "first_bad_seq": report.first_bad_seq}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    logs_page(&state, &me, LogQuery::default(), Some(report)).await
}
