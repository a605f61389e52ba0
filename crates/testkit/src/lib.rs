//! Test harness: the whole app on port 0 with a fresh database of either backend, a movable clock,
//! a fixture with one account per role, and a client that signs in like a browser.
//!
//! PostgreSQL runs when `DXE_TEST_POSTGRES_URL` names a server (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates and drops its own database. Without
//! it the PostgreSQL half is skipped with a message, unless `DXE_REQUIRE_POSTGRES=1` makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod fixture;

pub use client::Session;
pub use fixture::{Fixture, PASSWORD, seal_validity, seed};

use dianxiaoer_store::{DatabaseUrl, Keys, Store};
use dianxiaoer_web::{AppState, Clock, WebConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A clock the test moves by hand.
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A running app.
pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    /// The gas alarm engine, without its ticker: tests run `gas.engine().tick()` when they move the clock.
    pub gas: dianxiaoer_gas::GasHandle,
    pub fixture: Fixture,
    pub db_url: DatabaseUrl,
    pg: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// An event of a case loaded with its history (`Store::insert_historical_cases`), by "测试".
pub fn history_event(
    action: &str,
    at: i64,
    actor: dianxiaoer_core::approval::Actor,
    comment: &str,
) -> dianxiaoer_store::HistoricalEvent {
    dianxiaoer_store::HistoricalEvent {
        action: action.into(),
        at,
        actor_id: None,
        actor_name: "测试".into(),
        actor,
        comment: comment.into(),
    }
}

pub fn temp_dir() -> TempDir {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("dxe-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    TempDir(p)
}

/// The PostgreSQL server URL, or `None` (after saying so) when the PostgreSQL half is skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var("DXE_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("DXE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("DXE_REQUIRE_POSTGRES=1 but DXE_TEST_POSTGRES_URL is not set");
            }
            eprintln!("SKIPPED: PostgreSQL test not run (set DXE_TEST_POSTGRES_URL to run it)");
            None
        }
    }
}

/// The external MQTT broker's URL (`DXE_TEST_MQTT_URL`, e.g. `mqtt://127.0.0.1:1883`), or `None`
/// (after saying so) when the tests that need it are skipped, unless `DXE_REQUIRE_MQTT=1`.
pub fn mqtt_url() -> Option<String> {
    match std::env::var("DXE_TEST_MQTT_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("DXE_REQUIRE_MQTT").is_ok_and(|v| v == "1") {
                panic!("DXE_REQUIRE_MQTT=1 but DXE_TEST_MQTT_URL is not set");
            }
            eprintln!("SKIPPED: MQTT broker test not run (set DXE_TEST_MQTT_URL to run it)");
            None
        }
    }
}

/// Replaces the database name of a PostgreSQL URL.
fn with_db(url: &str, db: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let after = head.find("://").map_or(0, |i| i + 3);
    let base = match head[after..].find('/') {
        Some(i) => &head[..after + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A fresh, empty database of `backend`; `None` when PostgreSQL is skipped.
pub async fn fresh_database(backend: Backend) -> Option<(DatabaseUrl, Option<(String, String)>, Option<TempDir>)> {
    match backend {
        Backend::Sqlite => {
            let dir = temp_dir();
            let url = DatabaseUrl::parse(&format!("sqlite://{}/test.db", dir.0.display())).unwrap();
            Some((url, None, Some(dir)))
        }
        Backend::Postgres => {
            let server = postgres_url()?;
            let name = format!("dxe_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
            admin_exec(&server, &format!("DROP DATABASE IF EXISTS {name}")).await;
            admin_exec(&server, &format!("CREATE DATABASE {name}")).await;
            let url = DatabaseUrl::parse(&with_db(&server, &name)).unwrap();
            Some((url, Some((server, name)), None))
        }
    }
}

async fn admin_exec(server: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(server).await.expect("connect to the PostgreSQL test server");
    sqlx::raw_sql(sql).execute(&mut c).await.expect(sql);
    let _ = c.close().await;
}

/// Drops a test database created by [`fresh_database`].
pub async fn drop_database(pg: &Option<(String, String)>) {
    if let Some((server, name)) = pg {
        admin_exec(server, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
}

/// The secret that wraps the test seal keys.
pub const SEAL_SECRET: &[u8] = b"test-seal-key-0123456789abcdefghij";

/// 2026-03-02 09:00 Beijing time: a Monday, for tests that care about the date.
pub const START_MS: i64 = 1_772_413_200_000;

impl TestApp {
    /// Starts the app with the fixture; `None` when the backend is skipped.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, WebConfig::default()).await
    }

    pub async fn spawn_with(backend: Backend, config: WebConfig) -> Option<TestApp> {
        let (db_url, pg, dir) = fresh_database(backend).await?;
        let keys = Keys {
            audit: Some(b"test-audit-key".to_vec()),
            token: Some(b"test-token-key-0123456789abcdef".to_vec()),
            seal: Some(SEAL_SECRET.to_vec()),
        };
        let store = Store::open(&db_url, keys).await.expect("open store");
        let clock = Arc::new(ManualClock(AtomicI64::new(START_MS)));
        store.seed_reference(START_MS).await.unwrap();
        let fixture = seed(&store, START_MS).await;
        let state = AppState::new(store.clone(), clock.clone(), config).await.unwrap();
        let options = dianxiaoer_gas::Options { tick_every: None, refresh_every: None, queue: 64 };
        let gas = dianxiaoer_gas::start(store.clone(), state.clock_fn(), options).await.unwrap();
        let state = state.with_gas(gas.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let st = state.clone();
        tokio::spawn(async move {
            let _ = dianxiaoer_web::serve(listener, st, std::future::pending()).await;
        });
        Some(TestApp { base: format!("http://{addr}"), store, clock, state, gas, fixture, db_url, pg, _dir: dir })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in as `username` (with the fixture password and TOTP secret) and returns the session.
    pub async fn login(&self, username: &str) -> Session {
        Session::login(self, username, PASSWORD).await
    }

    /// Drops the PostgreSQL database. Call at the end of a test.
    pub async fn cleanup(self) {
        self.store.close().await;
        drop_database(&self.pg).await;
    }
}

/// Runs `test` on both backends: `dual!(name, body)` defines `name_sqlite` and `name_postgres`.
#[macro_export]
macro_rules! dual {
    ($name:ident, $body:path) => {
        pub mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body($crate::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body($crate::Backend::Postgres).await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(with_db("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_db("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_db("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
