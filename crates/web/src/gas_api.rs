//! The gas JSON API under `/api/v1/gas`: detectors, the batch ingest of readings, and alarms with the
//! operator's actions. Each handler calls the same operation as its page.
//!
//! # Batch ingest: `POST /api/v1/gas/readings`
//!
//! Authenticated with an API key (`Authorization: Bearer dxe_…`) of an account holding
//! `IngestReadings`; only detectors of enterprises in that account's scope are fed (others are
//! refused like unknown tags). The body (at most 1 MiB, `Content-Type: application/json` or none)
//! is in the format named by the `format` query parameter:
//!
//! - `own` (default): `{"ts": ms?, "readings": [{"tag": "GT-101", "value": 12.3, "ts": ms?}, {"tag": …, "fault": 3}]}`;
//! - `thingsboard` (ThingsBoard device telemetry): `{"h2s": 3.5}`, `{"ts": ms, "values": {…}}` or an
//!   array of these, for the device named by the `device` query parameter (its tag);
//! - `thingsboard-gateway`: `{"GT-101": [{"ts": ms, "values": {"h2s": 3.5}}], …}`, device names being tags.
//!
//! A reading's key is `value`, the detector's gas code in any case (`h2s`, `O2`) or `fault`.
//! A payload that is not JSON or not of the format is refused whole (400, nothing stored). Otherwise
//! the answer is 202 with `{accepted, duplicates, rejected: [{tag, reason}], rejected_total}`: each
//! reading is stored once per (detector, timestamp), and unknown tags, readings from the future or
//! too old, or out of range (where the detector refuses those) are refused one by one, with reasons.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, problem};
use crate::form::ApiJson;
use crate::pages::FieldErrors;
use crate::pages::gas_alarms::{AlarmQuery, NoteForm, act};
use crate::pages::gas_detectors::{ListQuery, save};
use crate::pages::gas_form::RawDetector;
use crate::pages::gas_series::{self, ChartRange, SeriesOut};
use crate::pages::paging;
use axum::Extension;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dianxiaoer_core::gas::Tag;
use dianxiaoer_core::gas::payload::{self, Format, MAX_PAYLOAD_BYTES};
use dianxiaoer_gas::{Action, Allowed, IngestError};
use dianxiaoer_store::{AlarmEventRow, AlarmRow, DetectorRow, Page};
use serde::{Deserialize, Serialize};
use serde_json::Value;

type ApiResult<T> = Result<Json<T>, ApiError>;

fn field_problem(errors: FieldErrors) -> Response {
    let errs: Value =
        errors.into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect::<serde_json::Map<_, _>>().into();
    problem(StatusCode::UNPROCESSABLE_ENTITY, "数据校验未通过", "请按 errors 中的说明修改后重新提交", Some(errs))
}

pub async fn detectors(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Page<DetectorRow>> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let mut rows = state.store.list_detectors(&me.scope, &f, page, per_page).await?;
    state.live_detectors(&mut rows.items);
    Ok(Json(rows))
}

pub async fn detector(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<DetectorRow> {
    Ok(Json(state.live_detector(state.store.detector(&me.scope, id).await?)))
}

pub async fn create_detector(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    ApiJson(raw): ApiJson<RawDetector>,
) -> Result<Response, ApiError> {
    match save(&state, &me, None, &raw).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(state.live_detector(state.store.detector(&me.scope, id).await?)))
            .into_response()),
        Err(errors) => Ok(field_problem(errors)),
    }
}

pub async fn update_detector(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(raw): ApiJson<RawDetector>,
) -> Result<Response, ApiError> {
    match save(&state, &me, Some(id), &raw).await? {
        Ok(id) => Ok(Json(state.live_detector(state.store.detector(&me.scope, id).await?)).into_response()),
        Err(errors) => Ok(field_problem(errors)),
    }
}

#[derive(Deserialize)]
pub struct ReadingsQuery {
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct ReadingOut {
    ts: i64,
    value: f64,
}

/// The latest readings of a detector, newest first (at most 1000).
pub async fn readings(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<ReadingsQuery>,
) -> ApiResult<Vec<ReadingOut>> {
    let rows = state.store.recent_readings(&me.scope, id, q.limit.unwrap_or(100)).await?;
    Ok(Json(rows.into_iter().map(|r| ReadingOut { ts: r.ts, value: r.value_milli as f64 / 1000.0 }).collect()))
}

#[derive(Deserialize)]
pub struct SeriesQuery {
    range: Option<String>,
}

/// The readings of a detector over `range` (6h, 24h: raw readings; 7d, 30d: minute aggregates in
/// buckets), with its set-points: the data of the detector page's chart.
pub async fn series(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult<SeriesOut> {
    let range = ChartRange::parse(q.range.as_deref())?;
    Ok(Json(gas_series::load(&state, &me, id, range).await?.1))
}

#[derive(Deserialize, Default)]
pub struct IngestQuery {
    format: Option<String>,
    device: Option<String>,
}

fn unavailable(detail: &str) -> Response {
    problem(StatusCode::SERVICE_UNAVAILABLE, "服务暂不可用", detail, None)
}

/// How long a client waits for its batch's report before being told to retry (the batch may still
/// be stored; sending it again only adds duplicates, which are ignored).
const REPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Receives a batch of readings (see the module documentation).
pub async fn ingest(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<IngestQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("own") => Format::Own,
        Some("thingsboard" | "tb" | "thingsboard-device") => Format::ThingsBoardDevice,
        Some("thingsboard-gateway" | "tb-gateway") => Format::ThingsBoardGateway,
        Some(_) => {
            return Err(AppError::BadRequest("format 应为 own、thingsboard 或 thingsboard-gateway".into()).into());
        }
    };
    let device = match q.device.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => {
            Some(String::from(Tag::parse(d).map_err(|e| AppError::BadRequest(format!("device：{}", e.message)))?))
        }
        None => None,
    };
    let source = device.clone().unwrap_or_else(|| format!("api:{}", me.user.username));
    let Some(gas) = state.gas.as_ref() else {
        return Ok(unavailable("报警引擎未运行，请稍后重试"));
    };
    let counters = gas.engine().counters();
    if let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && !ct.trim().to_ascii_lowercase().starts_with("application/json")
    {
        counters.malformed(&source);
        let e = AppError::BadRequest("内容类型错误：请以 application/json 提交".into());
        return Ok(problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.title(), &e.detail(), None));
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await else {
        counters.malformed(&source);
        let e = AppError::BadRequest(format!("报文超过 {MAX_PAYLOAD_BYTES} 字节（1 MiB）的上限，请分批发送"));
        return Ok(problem(StatusCode::PAYLOAD_TOO_LARGE, AppError::TooLarge.title(), &e.detail(), None));
    };
    let points = match payload::parse(&bytes, format, state.now()) {
        Ok(p) => p,
        Err(e) => {
            counters.malformed(&source);
            return Ok(problem(StatusCode::BAD_REQUEST, "报文无法解析，整批未保存", &e.message, None));
        }
    };
    if format == Format::ThingsBoardDevice && device.is_none() && !points.is_empty() {
        counters.malformed(&source);
        return Err(AppError::BadRequest("ThingsBoard 设备格式须用 device 参数指明位号".into()).into());
    }
    let allowed = Allowed::of(state.store.ingest_enterprises(&me.scope).await?);
    match tokio::time::timeout(REPORT_TIMEOUT, gas.submit(points, device, allowed)).await {
        Ok(Ok(report)) => Ok((StatusCode::ACCEPTED, Json(report)).into_response()),
        Ok(Err(IngestError::Unavailable)) => Ok(unavailable(&IngestError::Unavailable.to_string())),
        Ok(Err(IngestError::Store)) => Ok(unavailable(&IngestError::Store.to_string())),
        Err(_) => Ok(unavailable("处理超时，请稍后重试（重复发送的读数会被忽略）")),
    }
}

pub async fn alarms(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<AlarmQuery>,
) -> ApiResult<Page<AlarmRow>> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    Ok(Json(state.store.list_alarms(&me.scope, &f, page, per_page).await?))
}

#[derive(Serialize)]
pub struct AlarmWithEvents {
    alarm: AlarmRow,
    events: Vec<AlarmEventRow>,
}

pub async fn alarm(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<AlarmWithEvents> {
    let alarm = state.store.alarm(&me.scope, id).await?;
    let events = state.store.alarm_events(&me.scope, id).await?;
    Ok(Json(AlarmWithEvents { alarm, events }))
}

async fn answer(state: &AppState, me: &CurrentUser, id: i64, action: Action) -> ApiResult<AlarmRow> {
    act(state, me, id, action).await?;
    Ok(Json(state.store.alarm(&me.scope, id).await?))
}

pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<AlarmRow> {
    answer(&state, &me, id, Action::Acknowledge).await
}

/// Body `{"note": "…"}`: what was done (required).
pub async fn dispose(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<NoteForm>,
) -> ApiResult<AlarmRow> {
    answer(&state, &me, id, Action::Dispose(f.note)).await
}

pub async fn close(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<AlarmRow> {
    answer(&state, &me, id, Action::Close).await
}

/// The ingest's counts over all devices, for polling at any number of devices (the benchmark waits
/// on it); `/metrics` lists them per device.
pub fn totals_text(state: &AppState) -> String {
    let Some(gas) = state.gas.as_ref() else { return String::new() };
    let c = gas.engine().counters().total();
    let mut out = String::from(
        "# HELP dxe_gas_ingest_all_total Gas readings and payloads of all devices by outcome.\n\
         # TYPE dxe_gas_ingest_all_total counter\n",
    );
    for (result, n) in [
        ("accepted", c.accepted),
        ("duplicate", c.duplicates),
        ("rejected", c.rejected),
        ("malformed", c.malformed),
        ("throttled", c.throttled),
    ] {
        out.push_str(&format!("dxe_gas_ingest_all_total{{result=\"{result}\"}} {n}\n"));
    }
    out
}

/// Per-device counts of the ingest (accepted, duplicates, refused, malformed payloads, throttled
/// messages), for the
/// metrics listener.
pub fn counters_text(state: &AppState) -> String {
    let Some(gas) = state.gas.as_ref() else { return String::new() };
    let mut out = String::from(
        "# HELP dxe_gas_ingest_total Gas readings and payloads by device and outcome.\n\
         # TYPE dxe_gas_ingest_total counter\n",
    );
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    for (device, c) in gas.engine().counters().snapshot() {
        let d = escape(&device);
        for (result, n) in [
            ("accepted", c.accepted),
            ("duplicate", c.duplicates),
            ("rejected", c.rejected),
            ("malformed", c.malformed),
            ("throttled", c.throttled),
        ] {
            if n > 0 {
                out.push_str(&format!("dxe_gas_ingest_total{{device=\"{d}\",result=\"{result}\"}} {n}\n"));
            }
        }
    }
    out
}
