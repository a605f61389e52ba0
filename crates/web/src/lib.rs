//! The web layer: server-rendered Chinese pages and the JSON API over the same store operations.
//! Every route is declared once in [`routes`], with the permission it needs; the router, the
//! OpenAPI document and the route × role test matrix are all built from that table.

mod api;
mod api_approval;
mod api_approval_aftercare;
mod api_approval_projects;
mod api_seal;
mod auth;
mod chart;
mod error;
mod form;
mod gas_api;
mod metrics;
mod openapi;
mod pages;
pub mod routes;
mod sheet;
mod view;
mod xlsx;

pub use auth::{hash_password, verify_password};
pub use metrics::Metrics;

pub use axum::Router;
use dianxiaoer_core::approval::Calendar;
use dianxiaoer_core::password::PasswordPolicy;
use dianxiaoer_store::Store;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

/// The clock, passed in so that tests can move time (DESIGN.md principle 3).
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// Settings of the web layer, filled from the command line.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Set cookies `Secure`: served over TLS or behind a TLS-terminating proxy.
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// Demo mode: the login page says so and lists the demo accounts.
    pub demo: bool,
    /// Largest accepted request body in bytes.
    pub body_limit: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { secure_cookies: false, trust_proxy: false, demo: false, body_limit: 2 * 1024 * 1024 }
    }
}

/// Shared state of all handlers. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    policy: Arc<RwLock<PasswordPolicy>>,
    refdata: Arc<RwLock<Option<CachedRefData>>>,
    calendar: Arc<RwLock<CalendarCache>>,
    /// The gas alarm engine: its ingest channel, live events and operator actions. `None` when it
    /// is not running (the gas pages read, the ingest and actions answer 503 / 409).
    pub gas: Option<dianxiaoer_gas::GasHandle>,
}

/// Organisation reference data that nearly every business page shows, kept in memory for a short
/// while instead of being read from the database on every request.
#[derive(Debug, Clone)]
pub struct RefData {
    pub towns: Vec<dianxiaoer_store::TownRow>,
    pub areas: Vec<dianxiaoer_store::ProjectAreaRow>,
    pub departments: Vec<dianxiaoer_store::DepartmentRow>,
    pub grids: Vec<dianxiaoer_store::GridRow>,
}

/// Reference data and when it was read.
type CachedRefData = (std::time::Instant, Arc<RefData>);

/// How long reference data may be served from memory; another instance's change shows within it.
const REFDATA_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// The working-day calendar (table plus the admin's entries) and when it was read. `generation`
/// moves on every change made here, so that a read which began before the change cannot put the old
/// calendar back into the cache.
#[derive(Default)]
struct CalendarCache {
    generation: u64,
    cached: Option<(std::time::Instant, Arc<Calendar>)>,
}

impl AppState {
    pub async fn new(store: Store, clock: Arc<dyn Clock>, config: WebConfig) -> dianxiaoer_store::Result<AppState> {
        let policy = store.policy().await?;
        Ok(AppState {
            store,
            clock,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            policy: Arc::new(RwLock::new(policy)),
            refdata: Arc::new(RwLock::new(None)),
            calendar: Arc::new(RwLock::new(CalendarCache::default())),
            gas: None,
        })
    }

    /// The state with the gas alarm engine attached.
    pub fn with_gas(mut self, gas: dianxiaoer_gas::GasHandle) -> AppState {
        self.gas = Some(gas);
        self
    }

    /// Detector rows with the gas engine's own last reading, last-seen time and offline flag: the
    /// store has them as of each detector's last save, up to `dianxiaoer_gas::SAVE_EVERY_MS` old.
    pub fn live_detectors(&self, rows: &mut [dianxiaoer_store::DetectorRow]) {
        let Some(gas) = &self.gas else { return };
        for d in rows {
            if let Some(s) = gas.engine().shown(d.id) {
                (d.last_ts, d.last_value_milli, d.last_seen, d.offline) =
                    (s.last_ts, s.last_value_milli, Some(s.last_seen), s.offline);
            }
        }
    }

    /// One detector row with the engine's own values (see [`AppState::live_detectors`]).
    pub fn live_detector(&self, mut d: dianxiaoer_store::DetectorRow) -> dianxiaoer_store::DetectorRow {
        self.live_detectors(std::slice::from_mut(&mut d));
        d
    }

    /// The clock as a plain function, for the gas engine (which does not know the web layer).
    pub fn clock_fn(&self) -> dianxiaoer_gas::ClockFn {
        let clock = self.clock.clone();
        Arc::new(move || clock.now_ms())
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn policy(&self) -> PasswordPolicy {
        self.policy.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// The reference data, from memory when fresh.
    pub async fn refdata(&self) -> dianxiaoer_store::Result<Arc<RefData>> {
        if let Ok(g) = self.refdata.read()
            && let Some((at, data)) = g.as_ref()
            && at.elapsed() < REFDATA_TTL
        {
            return Ok(data.clone());
        }
        let data = Arc::new(RefData {
            towns: self.store.towns().await?,
            areas: self.store.project_areas().await?,
            departments: self.store.departments().await?,
            grids: self.store.grids().await?,
        });
        if let Ok(mut g) = self.refdata.write() {
            *g = Some((std::time::Instant::now(), data.clone()));
        }
        Ok(data)
    }

    /// Drops the cached reference data after a change made here.
    pub(crate) fn forget_refdata(&self) {
        if let Ok(mut g) = self.refdata.write() {
            *g = None;
        }
    }

    /// The working-day calendar in force, from memory when fresh (the same lifetime as the reference
    /// data: a change made on another instance shows here within it).
    pub async fn calendar(&self) -> dianxiaoer_store::Result<Arc<Calendar>> {
        let mut generation = None;
        if let Ok(g) = self.calendar.read() {
            if let Some((at, cal)) = g.cached.as_ref()
                && at.elapsed() < REFDATA_TTL
            {
                return Ok(cal.clone());
            }
            generation = Some(g.generation);
        }
        let cal = Arc::new(self.store.calendar().await?);
        if let Ok(mut g) = self.calendar.write()
            && Some(g.generation) == generation
        {
            g.cached = Some((std::time::Instant::now(), cal.clone()));
        }
        Ok(cal)
    }

    /// Drops the cached calendar after a change made here.
    pub(crate) fn forget_calendar(&self) {
        if let Ok(mut g) = self.calendar.write() {
            g.generation = g.generation.wrapping_add(1);
            g.cached = None;
        }
    }

    pub(crate) fn set_cached_policy(&self, p: PasswordPolicy) {
        if let Ok(mut g) = self.policy.write() {
            *g = p;
        }
    }
}

/// The application router.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, finishing requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// A router with only the Prometheus metrics, for a separate listener that is not exposed.
pub fn metrics_app(state: AppState) -> Router {
    metrics::router(state)
}

/// Serves a plain router (the metrics listener).
pub async fn serve_router(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app).await
}
