//! The detector registry pages (气体探测器): list with filters, paging and Excel export, the
//! detector's page with its readings chart, latest readings and open alarms, and the create and edit
//! forms. Every
//! read and write goes through the user's scope; writes reload the detector in the alarm engine.

use super::gas_form::{self, RawDetector, milli_text, resolve_enterprise};
use super::gas_series::{self, ChartRange, ChartView};
use super::{FieldErrors, nonempty, paging, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::gas::{Gas, Unit};
use dianxiaoer_store::{
    AlarmFilter, AlarmRow, AuditEntry, DetectorFilter, DetectorInput, DetectorRow, Page, ReadingRow,
};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    pub enterprise: Option<String>,
    pub gas: Option<String>,
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    pub fn filter(&self) -> Result<DetectorFilter, AppError> {
        let q = nonempty(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()));
        }
        let enterprise_id = match nonempty(&self.enterprise) {
            Some(e) => Some(e.parse::<i64>().map_err(|_| AppError::BadRequest("企业编号应为整数".into()))?),
            None => None,
        };
        let gas = match nonempty(&self.gas) {
            Some(g) => Some(Gas::parse(&g).map_err(|e| AppError::BadRequest(e.message))?.code().to_owned()),
            None => None,
        };
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s @ ("active" | "disabled")) => Some(s.to_owned()),
            Some(_) => return Err(AppError::BadRequest("状态应为在用或停用".into())),
        };
        Ok(DetectorFilter { q, enterprise_id, gas, status })
    }
}

pub fn status_label(code: &str) -> &'static str {
    match code {
        "active" => "在用",
        "disabled" => "停用",
        _ => "其他",
    }
}

/// A stored value with its unit: "7.174 ppm".
pub fn value_text(milli: &Option<i64>, unit: &str) -> String {
    match milli {
        Some(m) => format!("{} {}", milli_text(*m), unit_symbol(unit)),
        None => "—".into(),
    }
}

pub fn unit_symbol(code: &str) -> &'static str {
    Unit::parse(code).map(Unit::symbol).unwrap_or("")
}

pub fn gas_label(code: &str) -> String {
    Gas::parse(code).map(|g| format!("{}（{}）", g.label(), g.code())).unwrap_or_else(|_| code.to_owned())
}

/// Online state as shown: 停用, 离线, 未上报, 在线.
pub fn link_label(d: &DetectorRow) -> &'static str {
    if d.status != "active" {
        "停用"
    } else if d.offline {
        "离线"
    } else if d.last_seen.is_none() {
        "未上报"
    } else {
        "在线"
    }
}

#[derive(Template)]
#[template(path = "gas_detectors.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<DetectorRow>,
    pager: Pager,
    q: ListQuery,
    gases: Vec<(&'static str, &'static str)>,
    enterprises: Option<Vec<(i64, String)>>,
    export: String,
    can_create: bool,
}

/// Enterprises offered in filters and forms: a list when the scope holds few of them.
const CHOICES_MAX: i64 = 200;

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let mut rows = state.store.list_detectors(&me.scope, &f, page, per_page).await?;
    state.live_detectors(&mut rows.items);
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let base = query_string(&[
        ("q", &s(&q.q)),
        ("enterprise", &s(&q.enterprise)),
        ("gas", &s(&q.gas)),
        ("status", &s(&q.status)),
    ]);
    let pager = Pager::new(&rows, base.clone());
    render(&ListPage {
        chrome: Chrome::new(&me, "/gas/detectors", "气体探测器"),
        rows,
        pager,
        q,
        gases: Gas::ALL.iter().map(|g| (g.code(), g.label())).collect(),
        enterprises: state.store.enterprise_choices(&me.scope, CHOICES_MAX).await?,
        export: base,
        can_create: permits(me.user.role, Permission::EditDetectors),
    })
}

/// Most rows one export may hold.
const EXPORT_MAX: i64 = 200_000;

/// Exports exactly what the filters select, within scope; audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let mut rows = state.store.export_detectors(&me.scope, &f, EXPORT_MAX).await?;
    state.live_detectors(&mut rows);
    let n = rows.len();
    let headers = [
        ("位号", 16.0),
        ("名称", 24.0),
        ("企业", 30.0),
        ("安装位置", 24.0),
        ("装置区域", 16.0),
        ("气体", 14.0),
        ("单位", 8.0),
        ("量程", 14.0),
        ("报警设定值", 34.0),
        ("上报周期（秒）", 12.0),
        ("状态", 8.0),
        ("通信", 8.0),
        ("最新值", 14.0),
        ("最新读数时间", 20.0),
        ("未关闭报警", 10.0),
    ];
    let bytes = tokio::task::spawn_blocking(move || {
        let cells = rows.into_iter().map(|d| {
            let mut row = vec![
                Cell::Text(d.tag.clone()),
                Cell::Text(d.name.clone()),
                Cell::Text(d.enterprise_name.clone()),
                Cell::Text(d.location.clone()),
                Cell::Text(d.plant_area.clone()),
                Cell::Text(gas_label(&d.spec.gas)),
                Cell::Text(unit_symbol(&d.spec.unit).to_owned()),
                Cell::Text(format!("{}～{}", milli_text(d.spec.range_min_milli), milli_text(d.spec.range_max_milli))),
                Cell::Text(gas_form::set_points_text(&d)),
                Cell::Int(d.spec.interval_s),
                Cell::Text(status_label(&d.status).to_owned()),
                Cell::Text(link_label(&d).to_owned()),
                Cell::Text(value_text(&d.last_value_milli, &d.spec.unit)),
            ];
            row.push(d.last_ts.map_or_else(|| Cell::Text(String::new()), Cell::Time));
            row.push(Cell::Int(d.open_alarms));
            row
        });
        workbook("气体探测器", &headers, cells)
    })
    .await
    .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "gas_detector", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "gas-detectors.xlsx"))
}

#[derive(Template)]
#[template(path = "gas_detector.html")]
struct DetailPage {
    chrome: Chrome,
    d: DetectorRow,
    set_points: String,
    warning: Option<String>,
    readings: Vec<ReadingRow>,
    alarms: Vec<AlarmRow>,
    can_edit: bool,
    chart: ChartView,
    range: &'static str,
    range_label: &'static str,
    /// (code, label) of the range selector.
    ranges: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    ok: Option<String>,
    /// The chart's range: 6h, 24h, 7d or 30d.
    range: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let range = ChartRange::parse(q.range.as_deref())?;
    let (d, series) = gas_series::load(&state, &me, id, range).await?;
    let chart = gas_series::chart(&d, &series);
    let readings = state.store.recent_readings(&me.scope, id, 50).await?;
    let f = AlarmFilter { open: Some(true), detector_id: Some(id), ..AlarmFilter::default() };
    let alarms = state.store.list_alarms(&me.scope, &f, 1, 50).await?.items;
    render(&DetailPage {
        chrome: Chrome::new(&me, "/gas/detectors", "探测器").notice(q.ok.as_deref()),
        set_points: gas_form::set_points_text(&d),
        warning: gas_form::standard_warning(&d),
        d,
        readings,
        alarms,
        can_edit: permits(me.user.role, Permission::EditDetectors),
        chart,
        range: range.code(),
        range_label: range.label(),
        ranges: ChartRange::ALL.iter().map(|r| (r.code(), r.label())).collect(),
    })
}

#[derive(Template)]
#[template(path = "gas_detector_form.html")]
struct FormPage {
    chrome: Chrome,
    id: Option<i64>,
    f: RawDetector,
    errors: FieldErrors,
    gases: Vec<(&'static str, &'static str)>,
    enterprises: Option<Vec<(i64, String)>>,
    own_enterprise: bool,
}

async fn form_page(
    state: &AppState,
    me: &CurrentUser,
    id: Option<i64>,
    f: RawDetector,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let title = if id.is_some() { "编辑探测器" } else { "登记探测器" };
    let page = FormPage {
        chrome: Chrome::new(me, "/gas/detectors", title),
        id,
        f,
        errors,
        gases: Gas::ALL.iter().map(|g| (g.code(), g.label())).collect(),
        enterprises: state.store.enterprise_choices(&me.scope, CHOICES_MAX).await?,
        own_enterprise: matches!(me.scope, dianxiaoer_core::access::Scope::Enterprise(_)),
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    let f = RawDetector { status: "active".into(), interval_s: "30".into(), ..RawDetector::default() };
    form_page(&state, &me, None, f, FieldErrors::new()).await
}

/// The store's refusals placed beside their field: a taken tag, an enterprise outside scope.
pub fn store_errors(e: dianxiaoer_store::Error) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::new();
    match e {
        dianxiaoer_store::Error::Conflict(m) => {
            errors.insert("tag", m);
        }
        dianxiaoer_store::Error::Invalid(m) => {
            errors.insert("enterprise", m);
        }
        other => return Err(other.into()),
    }
    Ok(errors)
}

/// Parses and saves a detector (new when `id` is `None`), then reloads it in the engine. Shared
/// with the API; `Ok(Err(..))` holds field errors.
pub async fn save(
    state: &AppState,
    me: &CurrentUser,
    id: Option<i64>,
    raw: &RawDetector,
) -> Result<Result<i64, FieldErrors>, AppError> {
    if let Some(id) = id {
        state.store.detector(&me.scope, id).await?;
    }
    let enterprise = resolve_enterprise(state, me, &raw.enterprise).await?;
    let input: DetectorInput = match gas_form::parse(raw, enterprise) {
        Ok(i) => i,
        Err(errors) => return Ok(Err(errors)),
    };
    let saved = match id {
        Some(id) => state.store.update_detector(&me.actor(), &me.scope, id, &input, state.now()).await.map(|()| id),
        None => state.store.create_detector(&me.actor(), &me.scope, &input, state.now()).await,
    };
    let id = match saved {
        Ok(id) => id,
        Err(e) => return Ok(Err(store_errors(e)?)),
    };
    if let Some(gas) = &state.gas
        && let Err(e) = gas.engine().reload(id).await
    {
        // Saved; the engine's periodic refresh takes it up.
        tracing::warn!(detector = id, error = %e, "reloading a detector in the engine failed");
    }
    Ok(Ok(id))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<RawDetector>,
) -> Result<Response, PageError> {
    match save(&state, &me, None, &f).await? {
        Ok(id) => Ok(see_other(&format!("/gas/detectors/{id}?ok=created"))),
        Err(errors) => form_page(&state, &me, None, f, errors).await,
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let d = state.store.detector(&me.scope, id).await?;
    let code = state.store.credit_code_of(d.enterprise_id).await?.unwrap_or_default();
    form_page(&state, &me, Some(id), RawDetector::of(&d, &code), FieldErrors::new()).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<RawDetector>,
) -> Result<Response, PageError> {
    match save(&state, &me, Some(id), &f).await? {
        Ok(id) => Ok(see_other(&format!("/gas/detectors/{id}?ok=saved"))),
        Err(errors) => form_page(&state, &me, Some(id), f, errors).await,
    }
}
