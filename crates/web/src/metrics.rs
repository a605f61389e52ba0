//! Operations: request ids and structured request logs, Prometheus counters, health and readiness.

use crate::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters kept in process and rendered in the Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    requests: AtomicU64,
    responses_2xx: AtomicU64,
    responses_3xx: AtomicU64,
    responses_4xx: AtomicU64,
    responses_5xx: AtomicU64,
    /// Sum of request durations in microseconds.
    duration_us: AtomicU64,
    next_id: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
}

impl Metrics {
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "# HELP dxe_http_requests_total HTTP requests received.\n# TYPE dxe_http_requests_total counter\n\
             dxe_http_requests_total {}\n\
             # HELP dxe_http_responses_total HTTP responses by status class.\n# TYPE dxe_http_responses_total counter\n\
             dxe_http_responses_total{{class=\"2xx\"}} {}\ndxe_http_responses_total{{class=\"3xx\"}} {}\n\
             dxe_http_responses_total{{class=\"4xx\"}} {}\ndxe_http_responses_total{{class=\"5xx\"}} {}\n\
             # HELP dxe_http_request_duration_seconds_sum Total time spent serving requests.\n\
             # TYPE dxe_http_request_duration_seconds_sum counter\n\
             dxe_http_request_duration_seconds_sum {:.6}\n\
             # HELP dxe_logins_total Login attempts by result.\n# TYPE dxe_logins_total counter\n\
             dxe_logins_total{{result=\"ok\"}} {}\ndxe_logins_total{{result=\"failed\"}} {}\n",
            g(&self.requests),
            g(&self.responses_2xx),
            g(&self.responses_3xx),
            g(&self.responses_4xx),
            g(&self.responses_5xx),
            g(&self.duration_us) as f64 / 1e6,
            g(&self.logins_ok),
            g(&self.logins_failed),
        )
    }
}

/// Gives each request an id (kept from `X-Request-Id` when the proxy sent a sane one), logs it with
/// method, path, status and duration, and counts it. Query strings are not logged: they may hold search
/// text with personal data.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let m = &state.metrics;
    m.requests.fetch_add(1, Ordering::Relaxed);
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:x}-{:x}", std::process::id(), m.next_id.fetch_add(1, Ordering::Relaxed)));
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let status = resp.status();
    let class = match status.as_u16() {
        200..=299 => &m.responses_2xx,
        300..=399 => &m.responses_3xx,
        400..=499 => &m.responses_4xx,
        _ => &m.responses_5xx,
    };
    class.fetch_add(1, Ordering::Relaxed);
    let elapsed = started.elapsed();
    m.duration_us.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let headers = resp.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        ),
    );
    if !headers.contains_key("cache-control") {
        headers.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    tracing::info!(request_id = %id, %method, %path, status = status.as_u16(), ms = elapsed.as_secs_f64() * 1e3, "request");
    resp
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn prometheus(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    text.push_str(&crate::gas_api::totals_text(&state));
    text.push_str(&crate::gas_api::counters_text(&state));
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}

/// Only the gas ingest's totals: small whatever the number of devices.
async fn gas_totals(State(state): State<AppState>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], crate::gas_api::totals_text(&state)).into_response()
}

pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(prometheus)).route("/metrics/gas", get(gas_totals)).with_state(state)
}
