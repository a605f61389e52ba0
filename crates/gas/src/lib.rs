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
pub mod mqtt;
pub mod relay;
pub mod retention;
pub mod simulate;
pub mod spec;

pub use engine::{Action, ActionError, ClockFn, ENGINE_NAME, Engine, GasEvent, SAVE_EVERY_MS};
pub use ingest::{Allowed, Batch, Counters, DeviceCounts, IngestError, IngestReport, Rejected};
pub use live::{LiveValue, Shown};

use dianxiaoer_core::gas::payload::Point;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How the engine's task runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Period of the time-based rules; `None` runs them only when [`Engine::tick`] is called (tests).
    pub tick_every: Option<Duration>,
    /// Period of re-reading every detector's configuration (changes made on another instance);
    /// `None`: only on [`Engine::reload`].
    pub refresh_every: Option<Duration>,
    /// Batches that may wait in the channel; senders wait beyond it (back-pressure, not loss). At
    /// least [`STEP_MAX_BATCHES`], so that a step can take that many single-reading messages.
    pub queue: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            tick_every: Some(Duration::from_secs(1)),
            refresh_every: Some(Duration::from_secs(60)),
            queue: 2 * STEP_MAX_BATCHES,
        }
    }
}

/// The running engine: its channel and the engine itself. Cheap to clone; the task ends when the
/// last handle is dropped.
#[derive(Clone)]
pub struct GasHandle {
    engine: Engine,
    ingest: mpsc::Sender<Batch>,
    leading: watch::Receiver<bool>,
}

impl GasHandle {
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The channel transports feed.
    pub fn ingest(&self) -> mpsc::Sender<Batch> {
        self.ingest.clone()
    }

    /// Whether this instance runs the engine, and its changes (the broker client consumes only then).
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.leading.clone()
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

/// Loads every detector and starts the engine's task. The instance that holds the leadership
/// ([`dianxiaoer_store::LeaderLock`]: always with SQLite, by a PostgreSQL advisory lock otherwise)
/// runs the engine at once; any other waits as a standby, answering batches with
/// [`IngestError::Unavailable`] and trying for the leadership every second, and takes over —
/// reading every detector's state afresh from the store — when the leader's connection goes.
pub async fn start(
    store: dianxiaoer_store::Store,
    clock: ClockFn,
    options: Options,
) -> dianxiaoer_store::Result<GasHandle> {
    let engine = Engine::new(store.clone(), clock);
    let lock = store.try_lead().await?;
    if lock.is_some() {
        let n = engine.take_over().await?;
        engine.set_leading(true);
        tracing::info!(detectors = n, "gas alarm engine started (leader)");
    } else {
        tracing::info!("gas alarm engine on standby: another instance leads");
    }
    let (leading_tx, leading) = watch::channel(lock.is_some());
    let (tx, rx) = mpsc::channel(options.queue.max(1));
    tokio::spawn(supervise(engine.clone(), store, rx, options, lock, leading_tx));
    Ok(GasHandle { engine, ingest: tx, leading })
}

/// How often a standby tries for the leadership, and the leader checks it still holds it.
pub const LEADERSHIP_CHECK: Duration = Duration::from_secs(1);

/// Leads while the lock holds; waits as a standby otherwise; ends when every handle is gone.
async fn supervise(
    engine: Engine,
    store: dianxiaoer_store::Store,
    mut rx: mpsc::Receiver<Batch>,
    options: Options,
    mut lock: Option<dianxiaoer_store::LeaderLock>,
    leading: watch::Sender<bool>,
) {
    loop {
        let held = match lock.take() {
            Some(l) => l,
            None => match standby(&engine, &store, &mut rx).await {
                Some(l) => l,
                None => break,
            },
        };
        engine.set_leading(true);
        let _ = leading.send(true);
        let closed = run(engine.clone(), &mut rx, &options, held).await;
        engine.set_leading(false);
        let _ = leading.send(false);
        engine.forget_all().await;
        if closed {
            break;
        }
        tracing::error!("gas engine leadership lost (database connection gone); standing by");
    }
    tracing::info!("gas alarm engine stopped");
}

/// Waits for the leadership, refusing batches meanwhile and relaying what the leader records to
/// this instance's monitors ([`relay`]); `None` when the channel closed.
async fn standby(
    engine: &Engine,
    store: &dianxiaoer_store::Store,
    rx: &mut mpsc::Receiver<Batch>,
) -> Option<dianxiaoer_store::LeaderLock> {
    let mut every = tokio::time::interval(LEADERSHIP_CHECK);
    let mut relayed = relay::Relay::default();
    let mut read = interval(Some(relay::EVERY));
    let mut values = interval(Some(live::FLUSH_EVERY));
    loop {
        tokio::select! {
            () = next(&mut read) => {
                if let Err(e) = relayed.poll(engine, store).await {
                    tracing::warn!(error = %e, "relaying the leader's gas events failed");
                }
            }
            () = next(&mut values) => {
                engine.flush_values(std::time::Instant::now());
            }
            batch = rx.recv() => match batch {
                Some(b) => {
                    if let Some(reply) = b.reply {
                        let _ = reply.send(Err(IngestError::Unavailable));
                    }
                }
                None => return None,
            },
            _ = every.tick() => match store.try_lead().await {
                Ok(Some(l)) => match engine.take_over().await {
                    Ok(n) => {
                        tracing::info!(detectors = n, "gas alarm engine took over the leadership");
                        return Some(l);
                    }
                    Err(e) => tracing::warn!(error = %e, "loading detectors after taking the leadership failed"),
                },
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "trying for the gas engine leadership failed"),
            },
        }
    }
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

/// Most batches and points taken into one step: enough to spread a commit over thousands of
/// single-reading messages, few enough that a step stays well under the 50 ms alarm latency goal.
pub const STEP_MAX_BATCHES: usize = 1024;
pub const STEP_MAX_POINTS: usize = 20_000;

/// `first` and whatever else already waits in the channel, within the step's bounds.
fn gather(first: Batch, rx: &mut mpsc::Receiver<Batch>) -> Vec<Batch> {
    let mut points = first.points.len();
    let mut out = vec![first];
    while out.len() < STEP_MAX_BATCHES && points < STEP_MAX_POINTS {
        match rx.try_recv() {
            Ok(b) => {
                points += b.points.len();
                out.push(b);
            }
            Err(_) => break,
        }
    }
    out
}

/// The leader's work: batches as they come, ticks and refreshes on their periods, live values every
/// [`live::FLUSH_EVERY`], one at a time, and a check of the lock. Returns `true` when the channel closed, `false` when the lock was lost.
async fn run(
    engine: Engine,
    rx: &mut mpsc::Receiver<Batch>,
    options: &Options,
    mut lock: dianxiaoer_store::LeaderLock,
) -> bool {
    let mut tick = interval(options.tick_every);
    let mut refresh = interval(options.refresh_every);
    let mut check = interval(Some(LEADERSHIP_CHECK));
    let mut values = interval(Some(live::FLUSH_EVERY));
    loop {
        tokio::select! {
            batch = rx.recv() => match batch {
                Some(b) => engine.handle(gather(b, rx)).await,
                None => return true,
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
                if let Err(e) = engine.refresh().await {
                    tracing::warn!(error = %e, "gas engine refresh failed");
                }
            }
            () = next(&mut check) => {
                if !lock.check().await {
                    return false;
                }
            }
        }
    }
}
