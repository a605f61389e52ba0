//! The live monitor (实时监测): every detector in scope with its state (normal, 一级, 二级, offline,
//! fault) and latest value, and a server-sent event stream of the alarm engine's events and of the
//! detectors' new values that the page applies as they come, without reloading. The page reads fine without JavaScript; the stream only keeps it fresh.

use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use dianxiaoer_store::{DetectorFilter, DetectorRow};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Most detectors one monitor shows (a park has hundreds).
const MAX_DETECTORS: i64 = 5_000;

/// A detector's state as the monitor colours it; the worst active condition wins.
pub fn state_of(d: &DetectorRow, active: &[(String, i64)]) -> &'static str {
    if d.status != "active" {
        return "disabled";
    }
    if d.offline || active.iter().any(|(k, _)| k == "offline") {
        return "offline";
    }
    let level = active.iter().filter(|(k, _)| k != "fault").map(|(_, l)| *l).max();
    match level {
        Some(l) if l >= 2 => "level2",
        Some(_) => "level1",
        None if active.iter().any(|(k, _)| k == "fault") => "fault",
        None => "normal",
    }
}

pub fn state_label(state: &str) -> &'static str {
    match state {
        "level2" => "二级报警",
        "level1" => "一级报警",
        "offline" => "离线",
        "fault" => "故障",
        "disabled" => "停用",
        _ => "正常",
    }
}

/// One row of the monitor.
pub struct MonitorRow {
    pub d: DetectorRow,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "gas_monitor.html")]
struct MonitorPage {
    chrome: Chrome,
    rows: Vec<MonitorRow>,
    counts: Vec<(&'static str, &'static str, usize)>,
    map: Map,
}

/// The SVG map: the zone's project areas as outlines and each located detector as a dot.
pub struct Map {
    pub width: u32,
    pub height: u32,
    /// (name, SVG points, label x, label y).
    pub areas: Vec<(&'static str, String, String, String)>,
    /// (detector id, x, y, state, title).
    pub dots: Vec<(i64, String, String, &'static str, String)>,
}

const MAP_WIDTH: f64 = 900.0;
const MAP_PAD: f64 = 24.0;

/// Projects the project areas and the detectors' CGCS2000 positions onto the map: equirectangular
/// with the longitude scaled by cos(latitude), which is true to a few metres across a zone.
pub fn map(rows: &[MonitorRow]) -> Map {
    // The areas holding a located detector (the chemical park, usually), so the dots spread over
    // the map; every area when no detector is located yet.
    let located: Vec<(f64, f64)> = rows.iter().filter_map(|r| r.d.lon.zip(r.d.lat)).collect();
    let holding: Vec<&dianxiaoer_core::zone::ProjectArea> = dianxiaoer_core::zone::PROJECT_AREAS
        .iter()
        .filter(|a| {
            located.iter().any(|(lon, lat)| {
                dianxiaoer_core::geo::LonLat::parse(*lon, *lat)
                    .is_ok_and(|p| dianxiaoer_core::geo::point_in_polygon(p, a.ring))
            })
        })
        .collect();
    let areas: Vec<&dianxiaoer_core::zone::ProjectArea> =
        if holding.is_empty() { dianxiaoer_core::zone::PROJECT_AREAS.iter().collect() } else { holding };
    let points =
        areas.iter().flat_map(|a| a.ring.iter().copied()).chain(rows.iter().filter_map(|r| r.d.lon.zip(r.d.lat)));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (lon, lat) in points {
        x0 = x0.min(lon);
        x1 = x1.max(lon);
        y0 = y0.min(lat);
        y1 = y1.max(lat);
    }
    let k = ((y0 + y1) / 2.0).to_radians().cos();
    let scale = (MAP_WIDTH - 2.0 * MAP_PAD) / ((x1 - x0) * k).max(1e-6);
    let height = (y1 - y0) * scale + 2.0 * MAP_PAD;
    let xy = |lon: f64, lat: f64| (MAP_PAD + (lon - x0) * k * scale, MAP_PAD + (y1 - lat) * scale);
    let fmt = |v: f64| format!("{v:.1}");
    Map {
        width: MAP_WIDTH as u32,
        height: height.round().clamp(100.0, 2000.0) as u32,
        areas: areas
            .iter()
            .map(|a| {
                let pts: Vec<(f64, f64)> = a.ring.iter().map(|(lon, lat)| xy(*lon, *lat)).collect();
                let n = pts.len().max(1) as f64;
                let (cx, cy) = pts.iter().fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
                let svg = pts.iter().map(|(x, y)| format!("{},{}", fmt(*x), fmt(*y))).collect::<Vec<_>>().join(" ");
                (a.name, svg, fmt(cx), fmt(cy))
            })
            .collect(),
        dots: {
            // Worst last, so it is drawn on top.
            let rank =
                |s: &str| ["disabled", "normal", "offline", "fault", "level1", "level2"].iter().position(|x| *x == s);
            let mut sorted: Vec<&MonitorRow> = rows.iter().collect();
            sorted.sort_by_key(|r| rank(r.state));
            sorted
        }
        .into_iter()
        .filter_map(|r| {
            let (x, y) = xy(r.d.lon?, r.d.lat?);
            Some((r.d.id, fmt(x), fmt(y), r.state, format!("{} {}（{}）", r.d.tag, r.d.name, state_label(r.state))))
        })
        .collect(),
    }
}

async fn rows(state: &AppState, me: &CurrentUser) -> Result<Vec<MonitorRow>, AppError> {
    let mut detectors = state.store.export_detectors(&me.scope, &DetectorFilter::default(), MAX_DETECTORS).await?;
    state.live_detectors(&mut detectors);
    let mut active: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for (id, kind, level) in state.store.active_gas_alarms(&me.scope).await? {
        active.entry(id).or_default().push((kind, level));
    }
    Ok(detectors
        .into_iter()
        .map(|d| {
            let s = state_of(&d, active.get(&d.id).map_or(&[][..], Vec::as_slice));
            MonitorRow { d, state: s }
        })
        .collect())
}

pub async fn page(State(state): State<AppState>, Extension(me): Extension<CurrentUser>) -> Result<Response, PageError> {
    let mut rows = rows(&state, &me).await?;
    // Worst first, so an alarm is never below the fold.
    let rank = |s: &str| ["level2", "level1", "fault", "offline", "normal", "disabled"].iter().position(|x| *x == s);
    rows.sort_by_key(|r| (rank(r.state), r.d.tag.clone()));
    let counts = ["level2", "level1", "offline", "fault", "normal"]
        .into_iter()
        .map(|s| (s, state_label(s), rows.iter().filter(|r| r.state == s).count()))
        .collect();
    let map = map(&rows);
    render(&MonitorPage { chrome: Chrome::new(&me, "/gas/monitor", "实时监测"), rows, counts, map })
}

/// The engine's events for the detectors in the caller's scope, as server-sent events: `event: gas`
/// with the alarm or status event as JSON, and `event: values` with the latest readings of the
/// detectors whose value moved, `[{"detector_id", "ts", "value"}]`, at most one per detector per
/// second (the engine throttles them, see `dianxiaoer_gas::live`). The scope is taken when the
/// stream opens; a detector registered later appears after the page reconnects. A client that
/// falls behind on alarm events is told to reload (`event: lagged`); missed values are simply
/// superseded by the next ones.
pub async fn events(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    let Some(gas) = state.gas.as_ref() else {
        return Ok((axum::http::StatusCode::SERVICE_UNAVAILABLE, "气体报警引擎未运行").into_response());
    };
    let visible: HashSet<i64> = state
        .store
        .export_detectors(&me.scope, &DetectorFilter::default(), MAX_DETECTORS)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let streams = (gas.subscribe(), gas.subscribe_values(), visible);
    let stream = futures_util::stream::unfold(streams, |(mut rx, mut values, visible)| async move {
        loop {
            let sse = tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) if visible.contains(&ev.detector_id) => {
                        let data = serde_json::json!({
                            "detector_id": ev.detector_id, "tag": ev.tag, "alarm_id": ev.alarm_id, "at": ev.at,
                            "event": ev.event,
                        });
                        SseEvent::default().event("gas").data(data.to_string())
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => SseEvent::default().event("lagged").data("reload"),
                    Err(RecvError::Closed) => return None,
                },
                batch = values.recv() => match batch {
                    Ok(batch) => {
                        let mine: Vec<serde_json::Value> = batch
                            .iter()
                            .filter(|v| visible.contains(&v.detector_id))
                            .map(|v| serde_json::json!({
                                "detector_id": v.detector_id, "ts": v.ts, "value": v.value_milli as f64 / 1000.0,
                            }))
                            .collect();
                        if mine.is_empty() {
                            continue;
                        }
                        SseEvent::default().event("values").data(serde_json::Value::from(mine).to_string())
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
            };
            return Some((Ok::<_, Infallible>(sse), (rx, values, visible)));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_condition_wins() {
        let labels = ["level2", "level1", "offline", "fault", "normal", "disabled"];
        for s in labels {
            assert!(!state_label(s).is_empty());
        }
        assert_eq!(state_label("other"), "正常");
    }
}
