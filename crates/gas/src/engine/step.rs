//! The engine's detectors in memory and one step's work before it is written: the alarm changes and
//! broadcast events a detector's rule events turn into, and the state rows to save.

use super::minutes::{Closing, Minutes};
use super::{ENGINE_NAME, GasEvent};
use crate::ingest::IngestError;
use crate::spec::{self, to_milli};
use dianxiaoer_core::gas::{AlarmKind, DetectorConfig, DetectorState, Event, durable_eq};
use dianxiaoer_core::when::format_ms;
use dianxiaoer_store::{AlarmChange, EngineDetector, ReadingIn, StateIn, event_kind};
use std::collections::{HashMap, HashSet};

pub(super) struct Entry {
    pub(super) id: i64,
    pub(super) enterprise_id: i64,
    pub(super) tag: String,
    /// `None` when the stored configuration no longer validates (logged at load).
    pub(super) cfg: Option<DetectorConfig>,
    pub(super) active: bool,
    pub(super) state: DetectorState,
    /// The state moved since it was last saved, in the part saved only every [`SAVE_EVERY_MS`]
    /// (`core::gas::durable_eq`).
    pub(super) dirty: bool,
    /// Server time of the last save (or of the load).
    pub(super) saved_at: i64,
}

/// How often a detector's state is saved at most when only its last reading and last-seen time
/// moved; any change to its alarms, offline or fault state or delays is saved with the step.
pub const SAVE_EVERY_MS: i64 = 30_000;

/// Most states the tick saves of detectors that moved and then fell silent, so that a tick stays
/// short (those still reporting are saved by their own steps).
pub(super) const SAVES_PER_TICK: usize = 1_000;

impl Entry {
    /// Whether a step at `now` that moved this detector from `before` saves its state: when its
    /// durable part moved, or when it was last saved [`SAVE_EVERY_MS`] ago — so that the saves
    /// of busy detectors spread over the steps instead of coming due together.
    pub(super) fn must_save(&self, before: &DetectorState, now: i64) -> bool {
        now.saturating_sub(self.saved_at) >= SAVE_EVERY_MS
            || self.cfg.as_ref().is_none_or(|cfg| !durable_eq(cfg, before, &self.state))
    }
}

#[derive(Default)]
pub(super) struct Detectors {
    pub(super) by_id: HashMap<i64, Entry>,
    pub(super) by_tag: HashMap<String, i64>,
    pub(super) minutes: Minutes,
}

impl Detectors {
    /// Takes a detector's configuration from the store; a detector already running keeps its live state.
    pub(super) fn upsert(&mut self, row: EngineDetector, now: i64) {
        let cfg = match spec::config(&row.tag, &row.spec) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(detector = row.id, tag = %row.tag, error = %e, "stored detector configuration is invalid");
                None
            }
        };
        if let Some(e) = self.by_id.get_mut(&row.id) {
            if e.tag != row.tag {
                if self.by_tag.get(&e.tag) == Some(&row.id) {
                    self.by_tag.remove(&e.tag);
                }
                self.by_tag.insert(row.tag.clone(), row.id);
            }
            e.tag = row.tag;
            e.cfg = cfg;
            e.active = row.active;
            e.enterprise_id = row.enterprise_id;
            return;
        }
        let state = row
            .state
            .as_deref()
            .and_then(|s| match serde_json::from_str::<DetectorState>(s) {
                Ok(st) => Some(st),
                Err(e) => {
                    tracing::error!(detector = row.id, error = %e, "saved engine state unreadable; starting afresh");
                    None
                }
            })
            .unwrap_or_else(|| DetectorState::new(now));
        self.by_tag.insert(row.tag.clone(), row.id);
        let entry = Entry {
            id: row.id,
            enterprise_id: row.enterprise_id,
            tag: row.tag,
            cfg,
            active: row.active,
            state,
            dirty: false,
            saved_at: now,
        };
        self.by_id.insert(row.id, entry);
    }
}

/// Where a step's events come from: when, who (the engine or a person), a person's note, and the
/// alarm a person acted on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Origin<'a> {
    pub(super) at: i64,
    pub(super) who: &'a str,
    pub(super) note: &'a str,
    pub(super) alarm: Option<i64>,
}

impl Origin<'_> {
    pub(super) fn engine(at: i64) -> Origin<'static> {
        Origin { at, who: ENGINE_NAME, note: "", alarm: None }
    }
}

/// One step's work before it is written.
#[derive(Default)]
pub(super) struct Step {
    /// States before the step, to put back if the write fails; a state whose durable part moved
    /// from it is saved with the step.
    pub(super) before: HashMap<i64, DetectorState>,
    /// Late readings, which may be stored already.
    pub(super) readings: Vec<ReadingIn>,
    /// Applied readings: newer than any stored reading of their detector (its last applied one).
    pub(super) fresh: Vec<ReadingIn>,
    pub(super) seen: HashSet<(i64, i64)>,
    /// Detectors whose state is saved whether or not its durable part moved (background saves).
    pub(super) save: HashSet<i64>,
    /// Minutes to close other than those due (at shutdown: all).
    pub(super) closing: Option<Closing>,
    pub(super) changes: Vec<AlarmChange>,
    /// Events to broadcast, with the index of their change.
    pub(super) events: Vec<(GasEvent, Option<usize>)>,
}

impl Step {
    pub(super) fn touch(&mut self, e: &Entry) {
        self.before.entry(e.id).or_insert(e.state);
    }

    /// Turns a detector's events into alarm changes. The status events `Offline` and `Fault` come
    /// just before the alarm event they cause and lend it their detail; `Online` is followed by the
    /// offline alarm's clearing. `value` is the reading that caused them, if any.
    pub(super) fn record(&mut self, e: &Entry, events: &[Event], value: Option<f32>, o: Origin<'_>) {
        let mut carry: Option<(AlarmKind, String, Event)> = None;
        for ev in events {
            let broadcast = GasEvent {
                detector_id: e.id,
                enterprise_id: e.enterprise_id,
                tag: e.tag.clone(),
                alarm_id: o.alarm,
                at: o.at,
                event: *ev,
            };
            let status = match *ev {
                Event::Offline { last_seen } => {
                    Some((AlarmKind::Offline, format!("最后一次通信：{}", format_ms(last_seen))))
                }
                Event::Fault { code } => Some((AlarmKind::Fault, format!("故障码 {code}"))),
                _ => None,
            };
            if let Some((kind, text)) = status {
                if let Some((_, text, ev)) = carry.replace((kind, text, *ev)) {
                    self.change(e, ev, None, text, o);
                }
                self.events.push((broadcast, None));
                continue;
            }
            if *ev == Event::Online {
                self.events.push((broadcast, None));
                continue;
            }
            let kind = event_kind(ev);
            let detail = match (carry.take_if(|c| c.0 == kind), ev) {
                (Some((_, text, _)), _) => text,
                (None, Event::Reminder { value, .. }) => format!("当前值 {value}"),
                (None, _) => o.note.to_owned(),
            };
            let value = match ev {
                Event::Raised { .. } | Event::LevelRaised { .. } | Event::Repeated { .. } => value,
                _ => None,
            };
            self.change(e, *ev, value, detail, o);
            self.events.push((broadcast, Some(self.changes.len() - 1)));
        }
        if let Some((_, text, ev)) = carry {
            self.change(e, ev, None, text, o);
        }
    }

    fn change(&mut self, e: &Entry, event: Event, value: Option<f32>, detail: String, o: Origin<'_>) {
        self.changes.push(AlarmChange {
            detector_id: e.id,
            enterprise_id: e.enterprise_id,
            alarm_id: o.alarm,
            event,
            at: o.at,
            who: o.who.to_owned(),
            value_milli: value.map(to_milli),
            detail,
        });
    }
}

pub(super) fn state_row(e: &Entry) -> Result<StateIn, IngestError> {
    let state = serde_json::to_string(&e.state).map_err(|err| {
        tracing::error!(detector = e.id, error = %err, "engine state not serialisable");
        IngestError::Store
    })?;
    Ok(StateIn {
        detector_id: e.id,
        last_ts: e.state.last_reading_ts(),
        last_value_milli: e.state.last_value().map(to_milli),
        last_seen: e.state.last_seen(),
        offline: e.state.is_offline(),
        state,
    })
}
