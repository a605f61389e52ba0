//! The gas alarm pages (气体报警): the list (open alarms first) with filters and the operator's
//! actions — acknowledge (确认), dispose with a note (处置), close (关闭) — and one alarm with its
//! events. Actions go through the alarm engine, which applies the core's lifecycle rules and
//! records each transition with an audit record.

use super::{nonempty, paging, render, see_other};
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
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::gas::AlarmKind;
use dianxiaoer_gas::{Action, ActionError};
use dianxiaoer_store::{AlarmEventRow, AlarmFilter, AlarmRow, Page, kind_code, parse_kind};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct AlarmQuery {
    /// "open", "closed", or blank for all.
    pub status: Option<String>,
    pub level: Option<String>,
    pub kind: Option<String>,
    pub enterprise: Option<String>,
    pub detector: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl AlarmQuery {
    pub fn filter(&self) -> Result<AlarmFilter, AppError> {
        let int = |v: &Option<String>, what: &str| -> Result<Option<i64>, AppError> {
            nonempty(v)
                .map(|s| s.parse::<i64>().map_err(|_| AppError::BadRequest(format!("{what}应为整数"))))
                .transpose()
        };
        let open = match self.status.as_deref().map(str::trim) {
            None | Some("") | Some("all") => None,
            Some("open") => Some(true),
            Some("closed") => Some(false),
            Some(_) => return Err(AppError::BadRequest("状态应为未关闭或已关闭".into())),
        };
        let level = int(&self.level, "级别")?;
        if level.is_some_and(|l| !(1..=2).contains(&l)) {
            return Err(AppError::BadRequest("级别应为 1（一级）或 2（二级）".into()));
        }
        let kind = match nonempty(&self.kind) {
            Some(k) => {
                Some(kind_code(parse_kind(&k).ok_or_else(|| AppError::BadRequest("未知的报警类型".into()))?).to_owned())
            }
            None => None,
        };
        Ok(AlarmFilter {
            open,
            level,
            kind,
            enterprise_id: int(&self.enterprise, "企业编号")?,
            detector_id: int(&self.detector, "探测器编号")?,
        })
    }
}

pub fn kind_label(code: &str) -> &'static str {
    parse_kind(code).map(AlarmKind::label).unwrap_or("其他")
}

pub fn level_label(level: &i64) -> &'static str {
    match level {
        2 => "二级",
        _ => "一级",
    }
}

/// The alarm's state in words.
pub fn status_text(a: &AlarmRow) -> String {
    if a.closed_at.is_some() {
        return "已关闭".into();
    }
    let cond = if a.active { "报警中" } else { "已消除" };
    let step = match (a.acked_at, a.disposed_at) {
        (_, Some(_)) => "已处置",
        (Some(_), None) => "已确认",
        (None, None) => "未确认",
    };
    format!("{cond}·{step}")
}

/// Which actions the alarm's state offers (the engine checks again).
pub fn can_ack(a: &AlarmRow) -> bool {
    a.closed_at.is_none() && a.acked_at.is_none()
}

pub fn can_dispose(a: &AlarmRow) -> bool {
    a.closed_at.is_none() && a.acked_at.is_some() && a.disposed_at.is_none()
}

pub fn can_close(a: &AlarmRow) -> bool {
    a.closed_at.is_none() && a.disposed_at.is_some() && !a.active
}

pub fn event_label(code: &str) -> &'static str {
    match code {
        "raised" => "报警",
        "level_raised" => "升级为二级",
        "repeated" => "再次报警",
        "cleared" => "恢复正常",
        "escalated" => "未确认，逐级上报",
        "reminder" => "持续报警提醒",
        "offline" => "离线",
        "online" => "恢复在线",
        "fault" => "故障",
        "acknowledged" => "确认",
        "disposed" => "处置",
        "closed" => "关闭",
        _ => "其他",
    }
}

#[derive(Template)]
#[template(path = "gas_alarms.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<AlarmRow>,
    pager: Pager,
    q: AlarmQuery,
    kinds: Vec<(&'static str, &'static str)>,
    enterprises: Option<Vec<(i64, String)>>,
    can_handle: bool,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<AlarmQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = state.store.list_alarms(&me.scope, &f, page, per_page).await?;
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let base = query_string(&[
        ("status", &s(&q.status)),
        ("level", &s(&q.level)),
        ("kind", &s(&q.kind)),
        ("enterprise", &s(&q.enterprise)),
        ("detector", &s(&q.detector)),
    ]);
    let pager = Pager::new(&rows, base);
    render(&ListPage {
        chrome: Chrome::new(&me, "/gas/alarms", "气体报警").notice(None),
        rows,
        pager,
        q,
        kinds: AlarmKind::ALL.iter().map(|k| (kind_code(*k), k.label())).collect(),
        enterprises: state.store.enterprise_choices(&me.scope, 200).await?,
        can_handle: permits(me.user.role, Permission::HandleAlarms),
    })
}

#[derive(Template)]
#[template(path = "gas_alarm.html")]
struct DetailPage {
    chrome: Chrome,
    a: AlarmRow,
    events: Vec<AlarmEventRow>,
    can_handle: bool,
    error: Option<String>,
    note: String,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    ok: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    detail_page(&state, &me, id, q.ok.as_deref(), None, String::new()).await
}

async fn detail_page(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    ok: Option<&str>,
    error: Option<(StatusCode, String)>,
    note: String,
) -> Result<Response, PageError> {
    let a = state.store.alarm(&me.scope, id).await?;
    let events = state.store.alarm_events(&me.scope, id).await?;
    let status = error.as_ref().map(|(s, _)| *s);
    let mut resp = render(&DetailPage {
        chrome: Chrome::new(me, "/gas/alarms", "报警详情").notice(ok),
        a,
        events,
        can_handle: permits(me.user.role, Permission::HandleAlarms),
        error: error.map(|(_, m)| m),
        note,
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

/// Takes an operator's action on an alarm in the user's scope. Shared with the API.
pub async fn act(state: &AppState, me: &CurrentUser, id: i64, action: Action) -> Result<(), AppError> {
    state.store.alarm(&me.scope, id).await?;
    let gas = state.gas.as_ref().ok_or_else(|| AppError::Conflict("报警引擎未运行，请稍后重试".into()))?;
    gas.engine().act(&me.actor(), id, action).await.map_err(|e| match e {
        ActionError::Refused(m) => AppError::Conflict(m),
        ActionError::NotFound => AppError::NotFound,
        ActionError::Store => AppError::Internal("gas alarm action could not be written".into()),
    })
}

#[derive(Deserialize, Default)]
pub struct NoteForm {
    #[serde(default)]
    pub note: String,
}

async fn page_action(state: AppState, me: CurrentUser, id: i64, action: Action) -> Result<Response, PageError> {
    let note = match &action {
        Action::Dispose(n) => n.clone(),
        _ => String::new(),
    };
    match act(&state, &me, id, action).await {
        Ok(()) => Ok(see_other(&format!("/gas/alarms/{id}?ok=saved"))),
        Err(AppError::Conflict(m)) => detail_page(&state, &me, id, None, Some((StatusCode::CONFLICT, m)), note).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    page_action(state, me, id, Action::Acknowledge).await
}

pub async fn dispose(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<NoteForm>,
) -> Result<Response, PageError> {
    page_action(state, me, id, Action::Dispose(f.note)).await
}

pub async fn close(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    page_action(state, me, id, Action::Close).await
}
