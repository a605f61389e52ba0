//! 有毒有害气体预警 runtime: the alarm engine over the core's pure rules ([`engine`]), the ingest
//! channel any transport feeds ([`ingest`]: the HTTP batch API now, MQTT later), the ticker for the
//! time-based rules, and the stored form of a detector's configuration ([`spec`]).
//!
//! [`start`] loads every detector, spawns the engine's task and returns a [`GasHandle`]: send
//! [`Batch`]es on its channel (with a reply channel to wait for the [`IngestReport`]), subscribe to
//! its [`GasEvent`]s, and call the engine for operator actions and detector reloads.

pub mod engine;
pub mod ingest;
pub mod live;
pub mod retention;
pub mod spec;

pub use engine::{Action, ActionError, ClockFn, ENGINE_NAME, Engine, GasEvent};
pub use ingest::{Allowed, Batch, Counters, DeviceCounts, IngestError, IngestReport, Rejected};
pub use live::LiveValue;

use dianxiaoer_core::gas::payload::Point;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// How the engine's task runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Period of the time-based rules; `None` runs them only when [`Engine::tick`] is called (tests).
    pub tick_every: Option<Duration>,
    /// Period of re-reading every detector's configuration (changes made on another instance);
    /// `None`: only on [`Engine::reload`].
    pub refresh_every: Option<Duration>,
    /// Batches that may wait in the channel; senders wait beyond it (back-pressure, not loss).
    pub queue: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { tick_every: Some(Duration::from_secs(1)), refresh_every: Some(Duration::from_secs(60)), queue: 256 }
    }
}

/// The running engine: its channel and the engine itself. Cheap to clone; the task ends when the
/// last handle is dropped.
#[derive(Clone)]
pub struct GasHandle {
    engine: Engine,
    ingest: mpsc::Sender<Batch>,
}

impl GasHandle {
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The channel transports feed.
    pub fn ingest(&self) -> mpsc::Sender<Batch> {
        self.ingest.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<GasEvent> {
        self.engine.subscribe()
    }

    /// Throttled batches of the detectors' latest values (see [`live`]).
    pub fn subscribe_values(&self) -> broadcast::Receiver<std::sync::Arc<Vec<LiveValue>>> {
        self.engine.subscribe_values()
    }

    /// Sends points through the channel and waits for their report.
    pub async fn submit(
        &self,
        points: Vec<Point>,
        device: Option<String>,
        allowed: Allowed,
    ) -> Result<IngestReport, IngestError> {
        let (tx, rx) = oneshot::channel();
        let batch = Batch { points, device, allowed, reply: Some(tx) };
        self.ingest.send(batch).await.map_err(|_| IngestError::Unavailable)?;
        rx.await.map_err(|_| IngestError::Unavailable)?
    }
}

/// Loads every detector and starts the engine's task.
pub async fn start(
    store: dianxiaoer_store::Store,
    clock: ClockFn,
    options: Options,
) -> dianxiaoer_store::Result<GasHandle> {
    let engine = Engine::new(store, clock);
    let n = engine.reload_all().await?;
    tracing::info!(detectors = n, "gas alarm engine started");
    let (tx, rx) = mpsc::channel(options.queue.max(1));
    tokio::spawn(run(engine.clone(), rx, options));
    Ok(GasHandle { engine, ingest: tx })
}

fn interval(every: Option<Duration>) -> Option<tokio::time::Interval> {
    every.map(|d| {
        let mut i = tokio::time::interval(d);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        i
    })
}

async fn next(i: &mut Option<tokio::time::Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The engine's task: batches as they come, ticks and refreshes on their periods, live values every
/// [`live::FLUSH_EVERY`], one at a time.
async fn run(engine: Engine, mut rx: mpsc::Receiver<Batch>, options: Options) {
    let mut tick = interval(options.tick_every);
    let mut refresh = interval(options.refresh_every);
    let mut values = interval(Some(live::FLUSH_EVERY));
    loop {
        tokio::select! {
            batch = rx.recv() => match batch {
                Some(b) => engine.handle(b).await,
                None => break,
            },
            () = next(&mut tick) => {
                if let Err(e) = engine.tick().await {
                    tracing::warn!(error = %e, "gas engine tick failed");
                }
            }
            () = next(&mut values) => {
                engine.flush_values(std::time::Instant::now());
            }
            () = next(&mut refresh) => {
                if let Err(e) = engine.reload_all().await {
                    tracing::warn!(error = %e, "gas engine refresh failed");
                }
            }
        }
    }
    tracing::info!("gas alarm engine stopped");
}
