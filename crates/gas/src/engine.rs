//! The alarm engine runtime: every detector's validated configuration and live state in memory, the
//! core's pure rules applied to batches of readings, to the clock's ticks and to people's actions,
//! and each step written to the store in one transaction before it counts.
//!
//! One mutex serialises the steps. A step works on the detectors' states in place and remembers
//! each one's state from before; if the write fails, those are put back, so memory never runs
//! ahead of the database (and a failing store does not lose later readings either: the next batch
//! starts from the last committed state).
//!
//! What a step writes besides its readings and alarm changes: the state of each detector whose
//! alarm-relevant part moved (`core::gas::durable_eq`); a state that moved otherwise — last
//! reading, last seen — once [`SAVE_EVERY_MS`] passed since its last save (by the tick when the
//! detector fell silent), and all at shutdown ([`Engine::save_pending`]); the minute aggregates
//! once their minute closed (`minutes`).
//! A crash loses only what a restart recovers from the stored readings ([`Engine::take_over`]):
//! each detector's last reading, and the open minutes' aggregates. Not recovered: a last-seen time
//! moved by a message that stored no reading (a fault code) after the detector's last save.

use crate::ingest::{Batch, Counters, IngestError, IngestReport, Key, fault_code, key_of};
use crate::live::{LiveValue, LiveValues, Shown, ShownStates};
use crate::spec::{from_milli, to_milli};
use dianxiaoer_core::gas::retention::minute_of;
use dianxiaoer_core::gas::{self, DetectorConfig, DetectorState, Event, on_fault, on_reading, on_tick};
use dianxiaoer_store::{Actor, GasWrite, GasWritten, Store};
use minutes::Minutes;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
pub use step::SAVE_EVERY_MS;
use step::{Detectors, Entry, Origin, SAVES_PER_TICK, Step, state_row};
use tokio::sync::{Mutex, broadcast};

/// The clock, passed in (DESIGN.md principle 3): epoch milliseconds.
pub type ClockFn = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Who the engine's own transitions are recorded as.
pub const ENGINE_NAME: &str = "报警引擎";

fn engine_actor() -> Actor {
    Actor { user_id: None, username: ENGINE_NAME.into(), role: "system".into(), ip: "local".into() }
}

/// An alarm or status event, as broadcast to live monitors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GasEvent {
    pub detector_id: i64,
    pub enterprise_id: i64,
    pub tag: String,
    /// The alarm the event concerns, once it has one.
    pub alarm_id: Option<i64>,
    /// Server time.
    pub at: i64,
    pub event: Event,
}

/// An operator's action on an alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 确认.
    Acknowledge,
    /// 处置, with what was done.
    Dispose(String),
    /// 关闭.
    Close,
}

/// Why an action was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The alarm's lifecycle does not allow it (Chinese message from the core rules).
    #[error("{0}")]
    Refused(String),
    #[error("记录不存在")]
    NotFound,
    #[error("报警暂时无法处理，请稍后重试")]
    Store,
}

struct Inner {
    store: Store,
    clock: ClockFn,
    detectors: Mutex<Detectors>,
    events: broadcast::Sender<GasEvent>,
    counters: Counters,
    /// This instance holds the leadership (crate docs): only then does it take readings and actions.
    leading: AtomicBool,
    live: LiveValues,
    shown: ShownStates,
    /// When the detectors were last read from the store (epoch ms; 0: never).
    refreshed_at: AtomicI64,
}

/// How far back a refresh looks before the previous one.
pub const REFRESH_OVERLAP_MS: i64 = 5 * 60_000;

/// The engine. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// An engine with no detectors yet; [`Engine::reload_all`] loads them.
    pub fn new(store: Store, clock: ClockFn) -> Engine {
        let (events, _) = broadcast::channel(1024);
        let inner = Inner {
            store,
            clock,
            detectors: Mutex::new(Detectors::default()),
            events,
            counters: Counters::default(),
            leading: AtomicBool::new(false),
            live: LiveValues::new(),
            shown: ShownStates::default(),
            refreshed_at: AtomicI64::new(0),
        };
        Engine { inner: Arc::new(inner) }
    }

    pub(crate) fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Live alarm and status events, for monitors. Slow receivers miss events, never block the engine.
    pub fn subscribe(&self) -> broadcast::Receiver<GasEvent> {
        self.inner.events.subscribe()
    }

    /// Batches of detectors' latest values, at most one per detector per second (see [`crate::live`]).
    pub fn subscribe_values(&self) -> broadcast::Receiver<Arc<Vec<LiveValue>>> {
        self.inner.live.subscribe()
    }

    /// Sends the live values due at `at`; the engine's task calls it every
    /// [`crate::live::FLUSH_EVERY`]. Returns how many were sent.
    pub fn flush_values(&self, at: std::time::Instant) -> usize {
        self.inner.live.flush(at)
    }

    /// Whether anyone follows the live streams (a standby relays only then, [`crate::relay`]).
    pub(crate) fn watched(&self) -> bool {
        self.inner.events.receiver_count() > 0
    }

    /// Broadcasts what the leading instance recorded, on a standby ([`crate::relay`]): the events
    /// as they come, the values through the same throttle as the engine's own.
    pub(crate) fn relay(&self, events: Vec<GasEvent>, values: Vec<LiveValue>) {
        for e in events {
            // Nobody watching is fine.
            let _ = self.inner.events.send(e);
        }
        self.inner.live.note(values);
    }

    /// Per-device counts of accepted, duplicate, refused readings and malformed payloads.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Whether this instance runs the engine (holds the leadership).
    pub fn is_leading(&self) -> bool {
        self.inner.leading.load(Ordering::SeqCst)
    }

    pub(crate) fn set_leading(&self, leading: bool) {
        self.inner.leading.store(leading, Ordering::SeqCst);
    }

    /// Drops every detector's live state: after losing the leadership, another instance moves the
    /// states on, and this one must read them afresh from the store when it leads again.
    pub(crate) async fn forget_all(&self) {
        *self.inner.detectors.lock().await = Detectors::default();
        self.inner.shown.clear();
    }

    /// A detector's last reading, last-seen time and offline flag as this instance's engine has
    /// them (`None`: not moved since this instance began leading; the store's are current then).
    pub fn shown(&self, detector_id: i64) -> Option<Shown> {
        self.inner.shown.get(detector_id)
    }

    /// Loads every detector (configuration, and saved state for those not yet running). Detectors
    /// already running keep their live state.
    pub async fn reload_all(&self) -> dianxiaoer_store::Result<usize> {
        let now = self.now();
        let rows = self.inner.store.engine_detectors(None).await?;
        let newest = self.inner.store.engine_newest_readings().await?;
        let n = rows.len();
        let mut det = self.inner.detectors.lock().await;
        for row in rows {
            det.upsert(row, now);
        }
        // States saved before their last readings (see `SAVE_EVERY_MS`): the readings are stored.
        for (id, ts, value_milli) in newest {
            if let Some(e) = det.by_id.get_mut(&id) {
                let before = e.state;
                e.state.catch_up(ts, from_milli(value_milli), ts.min(now));
                if e.state != before {
                    e.dirty = true;
                    self.inner.shown.note([(id, shown(&e.state))]);
                }
            }
        }
        self.inner.refreshed_at.store(now, Ordering::Relaxed);
        Ok(n)
    }

    /// The periodic refresh: takes the detectors saved since the last load or refresh (less
    /// [`REFRESH_OVERLAP_MS`], for clocks of other instances running behind), so that a registry of
    /// 100,000 detectors is not re-read and re-validated every minute while readings wait.
    pub async fn refresh(&self) -> dianxiaoer_store::Result<usize> {
        let now = self.now();
        let since = self.inner.refreshed_at.load(Ordering::Relaxed).saturating_sub(REFRESH_OVERLAP_MS);
        let rows = self.inner.store.engine_detectors_since(since).await?;
        let n = rows.len();
        if n > 0 {
            let mut det = self.inner.detectors.lock().await;
            for row in rows {
                det.upsert(row, now);
            }
        }
        self.inner.refreshed_at.store(now, Ordering::Relaxed);
        Ok(n)
    }

    /// Takes a created or edited detector's configuration.
    pub async fn reload(&self, detector_id: i64) -> dianxiaoer_store::Result<()> {
        let rows = self.inner.store.engine_detectors(Some(detector_id)).await?;
        let now = self.now();
        let mut det = self.inner.detectors.lock().await;
        for row in rows {
            det.upsert(row, now);
        }
        Ok(())
    }

    /// A detector's live state (for monitors and tests).
    pub async fn state(&self, detector_id: i64) -> Option<DetectorState> {
        self.inner.detectors.lock().await.by_id.get(&detector_id).map(|e| e.state)
    }

    /// How many detectors are loaded, and how many of them are active.
    pub async fn loaded(&self) -> (usize, usize) {
        let det = self.inner.detectors.lock().await;
        (det.by_id.len(), det.by_id.values().filter(|e| e.active).count())
    }

    /// Checks, stores and evaluates one batch.
    pub async fn ingest(&self, batch: &Batch) -> Result<IngestReport, IngestError> {
        let mut reports = self.ingest_many(std::slice::from_ref(batch)).await?;
        Ok(reports.pop().unwrap_or_default())
    }

    /// Checks, stores and evaluates several batches in one step and one transaction, with a report
    /// for each: transports deliver many small messages, and one commit per message would cap the
    /// rate at what the disk syncs per second. A reading repeated in a later batch of the same step
    /// counts as that batch's duplicate, as it would in separate steps.
    pub async fn ingest_many(&self, batches: &[Batch]) -> Result<Vec<IngestReport>, IngestError> {
        let now = self.now();
        let mut reports = vec![IngestReport::default(); batches.len()];
        let mut guard = self.inner.detectors.lock().await;
        let Detectors { by_id, by_tag, minutes } = &mut *guard;
        let mut step = Step::default();
        // Per batch: (detector, ts) of its readings, and per detector its faults and duplicates.
        let mut keys: Vec<(usize, i64, i64)> = Vec::new();
        let mut faults: HashMap<(usize, i64), u64> = HashMap::new();
        let mut in_step_duplicates: HashMap<(usize, i64), u64> = HashMap::new();
        for (b, batch) in batches.iter().enumerate() {
            let report = &mut reports[b];
            let (first, first_fresh) = (step.readings.len(), step.fresh.len());
            let mut batch_faults: HashMap<i64, u64> = HashMap::new();
            let mut batch_duplicates: HashMap<i64, u64> = HashMap::new();
            for p in &batch.points {
                let Some(device) = p.device.as_deref().or(batch.device.as_deref()) else {
                    report.reject("", "缺少设备位号：ThingsBoard 设备格式请用 device 参数指明位号".into());
                    self.inner.counters.add("", |c| c.rejected += 1);
                    continue;
                };
                let entry = by_tag
                    .get(device)
                    .and_then(|id| by_id.get_mut(id))
                    .filter(|e| batch.allowed.permits_detector(e.enterprise_id, &e.tag));
                let refused = match entry {
                    None => Err("未登记的位号".to_owned()),
                    Some(e) if !e.active => Err("探测器已停用".to_owned()),
                    // Taken out and put back rather than cloned: a clone allocates the tag per reading.
                    Some(e) => match e.cfg.take() {
                        None => Err("探测器配置无效，请检查设置".to_owned()),
                        Some(cfg) => {
                            let applied =
                                self.apply(e, &cfg, p, now, &mut step, &mut batch_faults, &mut batch_duplicates);
                            e.cfg = Some(cfg);
                            applied
                        }
                    },
                };
                if let Err(reason) = refused {
                    report.reject(device, reason);
                    self.inner.counters.add(device, |c| c.rejected += 1);
                }
            }
            keys.extend(step.readings[first..].iter().chain(&step.fresh[first_fresh..]).map(|(d, ts, _)| (b, *d, *ts)));
            faults.extend(batch_faults.into_iter().map(|(d, n)| ((b, d), n)));
            in_step_duplicates.extend(batch_duplicates.into_iter().map(|(d, n)| ((b, d), n)));
        }
        let written = self.commit(by_id, minutes, step, &engine_actor()).await?;
        let inserted: HashSet<(i64, i64)> = written.inserted.iter().map(|(d, ts, _)| (*d, *ts)).collect();
        let mut per: HashMap<(usize, i64), (u64, u64)> = HashMap::new();
        for (b, d, ts) in keys {
            let c = per.entry((b, d)).or_default();
            if inserted.contains(&(d, ts)) { c.0 += 1 } else { c.1 += 1 }
        }
        for (k, n) in faults {
            per.entry(k).or_default().0 += n;
        }
        for (k, n) in in_step_duplicates {
            per.entry(k).or_default().1 += n;
        }
        let mut counts = Vec::with_capacity(per.len());
        for ((b, id), (accepted, duplicates)) in per {
            reports[b].accepted += accepted;
            reports[b].duplicates += duplicates;
            if let Some(e) = by_id.get(&id) {
                counts.push((e.tag.as_str(), accepted, duplicates));
            }
        }
        self.inner.counters.add_stored(counts);
        Ok(reports)
    }

    /// One point for one detector: a reading or a fault code. `Err` is the reason it was refused.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        e: &mut Entry,
        cfg: &DetectorConfig,
        p: &gas::payload::Point,
        now: i64,
        step: &mut Step,
        faults: &mut HashMap<i64, u64>,
        duplicates: &mut HashMap<i64, u64>,
    ) -> Result<(), String> {
        match key_of(&p.key, cfg.gas()) {
            Key::Value => {
                let before = e.state;
                let accepted = on_reading(cfg, &mut e.state, p.ts, p.value, now).map_err(|err| err.to_string())?;
                step.before.entry(e.id).or_insert(before);
                if !step.seen.insert((e.id, p.ts)) {
                    *duplicates.entry(e.id).or_default() += 1;
                    return Ok(());
                }
                let reading = (e.id, p.ts, to_milli(accepted.value));
                if accepted.applied {
                    step.fresh.push(reading)
                } else {
                    step.readings.push(reading)
                }
                step.record(e, accepted.events.as_slice(), Some(accepted.value), Origin::engine(now));
                Ok(())
            }
            Key::Fault => {
                let code = fault_code(p.value).ok_or_else(|| format!("故障码应为 0～{} 的整数", u16::MAX))?;
                step.touch(e);
                let events = on_fault(&mut e.state, code, now);
                step.record(e, events.as_slice(), None, Origin::engine(now));
                *faults.entry(e.id).or_default() += 1;
                Ok(())
            }
            Key::Other => Err(format!("未知的遥测键“{}”，应为 value、fault 或气体代码 {}", p.key, cfg.gas().code())),
        }
    }

    /// Saves every state not saved since it last moved and writes every open minute's aggregate,
    /// a chunk per transaction: at shutdown, so that a restart finds them as they were. Returns
    /// how many states were saved. Later readings' minutes go straight to the table.
    pub async fn save_pending(&self) -> Result<usize, IngestError> {
        let mut n = 0;
        loop {
            let mut guard = self.inner.detectors.lock().await;
            let Detectors { by_id, minutes, .. } = &mut *guard;
            let mut step = Step { closing: minutes.closing(i64::MAX), ..Step::default() };
            for e in by_id.values().filter(|e| e.dirty).take(SAVES_PER_TICK) {
                step.touch(e);
                step.save.insert(e.id);
            }
            if step.save.is_empty() && step.closing.is_none() {
                return Ok(n);
            }
            n += step.save.len();
            self.commit(by_id, minutes, step, &engine_actor()).await?;
        }
    }

    /// Loads every detector and rebuilds the minute aggregates a previous engine may have held in
    /// memory when it stopped, then keeps the open minutes' aggregates from the previous minute on:
    /// what an instance does when it begins to lead.
    pub async fn take_over(&self) -> dianxiaoer_store::Result<usize> {
        let n = self.reload_all().await?;
        let now = self.now();
        let from = minute_of(now) - 60_000;
        let mut det = self.inner.detectors.lock().await;
        let rebuilt = self.inner.store.recover_minutes(from, now).await?;
        det.minutes.open(from);
        tracing::info!(minutes = rebuilt, "gas minute aggregates rebuilt from the raw readings");
        Ok(n)
    }

    /// The time-based rules for every active detector: offline, escalation, reminders; and the
    /// saves of states that moved and were not saved for twice [`SAVE_EVERY_MS`] (silent since).
    pub async fn tick(&self) -> Result<usize, IngestError> {
        let now = self.now();
        let mut guard = self.inner.detectors.lock().await;
        let mut step = Step::default();
        for e in guard.by_id.values_mut() {
            // Twice the period: a detector still reporting is saved by its own next step.
            if e.dirty && now.saturating_sub(e.saved_at) >= 2 * SAVE_EVERY_MS && step.save.len() < SAVES_PER_TICK {
                step.touch(e);
                step.save.insert(e.id);
            }
            let Some(cfg) = e.cfg.as_ref().filter(|_| e.active) else { continue };
            let before = e.state;
            let events = on_tick(cfg, &mut e.state, now);
            if !events.is_empty() {
                step.before.entry(e.id).or_insert(before);
                step.record(e, events.as_slice(), None, Origin::engine(now));
            }
        }
        let n = step.events.len();
        let Detectors { by_id, minutes, .. } = &mut *guard;
        self.commit(by_id, minutes, step, &engine_actor()).await?;
        Ok(n)
    }

    /// An operator's action on alarm `alarm_id`. Callers check the alarm is in the user's scope first.
    pub async fn act(&self, actor: &Actor, alarm_id: i64, action: Action) -> Result<(), ActionError> {
        if !self.is_leading() {
            return Err(ActionError::Refused("本实例为备用实例，报警由主实例处理，请稍后重试".into()));
        }
        let now = self.now();
        let mut guard = self.inner.detectors.lock().await;
        let key = self.inner.store.alarm_key(alarm_id).await.map_err(|e| {
            tracing::error!(error = %e, "reading an alarm failed");
            ActionError::Store
        })?;
        let Some((detector_id, kind, open)) = key else { return Err(ActionError::NotFound) };
        if !open {
            return Err(ActionError::Refused("该报警已关闭".into()));
        }
        if !guard.by_id.contains_key(&detector_id) {
            // Registered on another instance since this one loaded: take it now.
            let rows = self.inner.store.engine_detectors(Some(detector_id)).await.map_err(|e| {
                tracing::error!(error = %e, "loading a detector failed");
                ActionError::Store
            })?;
            for row in rows {
                guard.upsert(row, now);
            }
        }
        let Some(e) = guard.by_id.get_mut(&detector_id) else { return Err(ActionError::NotFound) };
        let before = e.state;
        let who = actor.username.as_str();
        let done = match &action {
            Action::Acknowledge => gas::acknowledge(&mut e.state, kind, who, now),
            Action::Dispose(note) => gas::dispose(&mut e.state, kind, who, note, now),
            Action::Close => gas::close(&mut e.state, kind, who),
        };
        let event = done.map_err(|err| {
            e.state = before;
            ActionError::Refused(err.message)
        })?;
        let note = match &action {
            Action::Dispose(note) => note.trim(),
            _ => "",
        };
        let mut step = Step::default();
        step.before.insert(e.id, before);
        step.record(e, &[event], None, Origin { at: now, who, note, alarm: Some(alarm_id) });
        let Detectors { by_id, minutes, .. } = &mut *guard;
        self.commit(by_id, minutes, step, actor).await.map_err(|_| ActionError::Store)?;
        Ok(())
    }

    /// Writes a step; on success broadcasts its events, on failure puts the states back.
    async fn commit(
        &self,
        by_id: &mut HashMap<i64, Entry>,
        minutes: &mut Minutes,
        step: Step,
        actor: &Actor,
    ) -> Result<GasWritten, IngestError> {
        let Step { before, readings, fresh, changes, events, save, closing, .. } = step;
        let now = self.now();
        let closing = closing.or_else(|| minutes.due(now));
        if before.is_empty() && readings.is_empty() && fresh.is_empty() && changes.is_empty() && closing.is_none() {
            return Ok(GasWritten::default());
        }
        let saved: HashSet<i64> = before
            .iter()
            .filter(|(id, old)| save.contains(*id) || by_id.get(*id).is_some_and(|e| e.must_save(old, now)))
            .map(|(id, _)| *id)
            .collect();
        let states = saved.iter().filter_map(|id| by_id.get(id)).map(state_row).collect::<Result<Vec<_>, _>>();
        let result = match states {
            Ok(states) => {
                let kept_from = closing.as_ref().map_or(minutes.from, |c| c.from);
                let w = GasWrite {
                    readings,
                    new_readings: fresh,
                    states,
                    changes,
                    minutes_kept_from: (minutes.from != i64::MAX).then_some(kept_from),
                    minutes: closing.as_ref().map(|c| c.rows.clone()).unwrap_or_default(),
                    open_from: closing.as_ref().filter(|c| c.from != minutes.from).map(|c| (c.from, now)),
                };
                self.inner.store.write_gas(actor, &w).await.map_err(|e| {
                    tracing::error!(error = %e, "writing gas readings and alarms failed");
                    IngestError::Store
                })
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(written) => {
                minutes.committed(closing, &written.inserted);
                for id in before.keys() {
                    if let Some(e) = by_id.get_mut(id) {
                        if saved.contains(id) {
                            (e.dirty, e.saved_at) = (false, now);
                        } else {
                            e.dirty = true;
                        }
                    }
                }
                self.inner.shown.note(before.keys().filter_map(|id| Some((*id, shown(&by_id.get(id)?.state)))));
                // A detector's shown value moves only when a newer reading was applied.
                self.inner.live.note(before.iter().filter_map(|(id, old)| {
                    let e = by_id.get(id)?;
                    let ts = e.state.last_reading_ts().filter(|ts| Some(*ts) != old.last_reading_ts())?;
                    let value_milli = to_milli(e.state.last_value()?);
                    Some(LiveValue { detector_id: e.id, enterprise_id: e.enterprise_id, ts, value_milli })
                }));
                for (mut ev, change) in events {
                    if let Some(id) = change.and_then(|i| written.alarm_ids.get(i).copied().flatten()) {
                        ev.alarm_id = Some(id);
                    }
                    // No receiver is fine: nobody is watching.
                    let _ = self.inner.events.send(ev);
                }
                Ok(written)
            }
            Err(e) => {
                for (id, st) in before {
                    if let Some(entry) = by_id.get_mut(&id) {
                        entry.state = st;
                    }
                }
                Err(e)
            }
        }
    }

    /// Batches from the channel, taken in one step and each answered when its transport waits for
    /// a report.
    pub(crate) async fn handle(&self, batches: Vec<Batch>) {
        match self.ingest_many(&batches).await {
            Ok(reports) => {
                for (batch, report) in batches.into_iter().zip(reports) {
                    if let Some(reply) = batch.reply {
                        let _ = reply.send(Ok(report));
                    }
                }
            }
            Err(e) => {
                for batch in batches {
                    if let Some(reply) = batch.reply {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

fn shown(st: &DetectorState) -> Shown {
    Shown {
        last_ts: st.last_reading_ts(),
        last_value_milli: st.last_value().map(to_milli),
        last_seen: st.last_seen(),
        offline: st.is_offline(),
    }
}

mod minutes;
mod step;
#[cfg(test)]
mod tests;
