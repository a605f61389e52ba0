//! Live values for the monitor (issue 6, live monitor): each detector's latest applied reading,
//! published at most once per detector per [`VALUE_EVERY`], so that a flooding device cannot swamp
//! the event stream while a quiet one still shows its new value within [`FLUSH_EVERY`].
//!
//! The engine notes values as its steps commit; the engine's task flushes the due ones every
//! [`FLUSH_EVERY`] as one broadcast batch. A value held back by the throttle is not lost: it waits,
//! replaced by any newer one, until its detector is due again. The throttle runs on the monotonic
//! clock because it is about the stream's rate, not about when readings were taken.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// At most one value per detector this often.
pub const VALUE_EVERY: Duration = Duration::from_secs(1);
/// How often due values are sent.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// A detector's latest applied reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LiveValue {
    pub detector_id: i64,
    pub enterprise_id: i64,
    /// When the reading was taken, epoch ms.
    pub ts: i64,
    /// In thousandths of the detector's unit.
    pub value_milli: i64,
}

/// What pages show of a detector's state, as the engine has it: the store has it only as of the
/// detector's last save (see [`crate::engine::SAVE_EVERY_MS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shown {
    pub last_ts: Option<i64>,
    pub last_value_milli: Option<i64>,
    pub last_seen: i64,
    pub offline: bool,
}

/// Every moved detector's [`Shown`], kept while this instance leads.
#[derive(Debug, Default)]
pub(crate) struct ShownStates(Mutex<HashMap<i64, Shown>>);

impl ShownStates {
    pub(crate) fn note(&self, states: impl IntoIterator<Item = (i64, Shown)>) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(states);
    }

    pub(crate) fn get(&self, id: i64) -> Option<Shown> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).copied()
    }

    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}

/// Values waiting and when each detector last had one sent.
#[derive(Debug, Default)]
struct Throttle {
    pending: HashMap<i64, LiveValue>,
    sent: HashMap<i64, Instant>,
}

impl Throttle {
    /// Keeps the newest value per detector (a late reading never replaces a newer one).
    fn note(&mut self, v: LiveValue) {
        self.pending
            .entry(v.detector_id)
            .and_modify(|p| {
                if v.ts >= p.ts {
                    *p = v
                }
            })
            .or_insert(v);
    }

    /// Takes the values of the detectors due at `at`, oldest detector id first.
    fn due(&mut self, at: Instant, every: Duration) -> Vec<LiveValue> {
        let ready = |id: &i64, sent: &HashMap<i64, Instant>| {
            sent.get(id).is_none_or(|t| at.saturating_duration_since(*t) >= every)
        };
        let mut out: Vec<LiveValue> = Vec::new();
        let sent = &self.sent;
        self.pending.retain(|id, v| {
            if ready(id, sent) {
                out.push(*v);
                false
            } else {
                true
            }
        });
        for v in &out {
            self.sent.insert(v.detector_id, at);
        }
        // Only recent sends matter: the map stays as small as the set of busy detectors.
        self.sent.retain(|_, t| at.saturating_duration_since(*t) < every);
        out.sort_by_key(|v| v.detector_id);
        out
    }
}

/// The throttle and the broadcast channel of value batches.
pub(crate) struct LiveValues {
    throttle: Mutex<Throttle>,
    tx: broadcast::Sender<Arc<Vec<LiveValue>>>,
}

impl LiveValues {
    pub(crate) fn new() -> LiveValues {
        let (tx, _) = broadcast::channel(64);
        LiveValues { throttle: Mutex::new(Throttle::default()), tx }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<LiveValue>>> {
        self.tx.subscribe()
    }

    pub(crate) fn note(&self, values: impl IntoIterator<Item = LiveValue>) {
        // Nobody watching: nothing to keep.
        if self.tx.receiver_count() == 0 {
            return;
        }
        let mut t = self.throttle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for v in values {
            t.note(v);
        }
    }

    /// Sends the values due at `at`; returns how many.
    pub(crate) fn flush(&self, at: Instant) -> usize {
        let due = self.throttle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).due(at, VALUE_EVERY);
        let n = due.len();
        if n > 0 {
            // No receiver is fine: nobody is watching.
            let _ = self.tx.send(Arc::new(due));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: i64, ts: i64, value: i64) -> LiveValue {
        LiveValue { detector_id: id, enterprise_id: 1, ts, value_milli: value }
    }

    #[test]
    fn a_flood_gives_one_value_per_second_and_the_last_one_wins() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        let every = Duration::from_secs(1);
        t.note(v(1, 100, 5));
        assert_eq!(t.due(t0, every), vec![v(1, 100, 5)], "a first value goes out at once");
        // 40 readings within the next second: held back, only the newest kept.
        for k in 1..=40 {
            t.note(v(1, 100 + k, k));
        }
        t.note(v(1, 90, 999));
        assert!(t.due(t0 + Duration::from_millis(250), every).is_empty());
        assert!(t.due(t0 + Duration::from_millis(999), every).is_empty());
        assert_eq!(t.due(t0 + every, every), vec![v(1, 140, 40)]);
        assert!(t.due(t0 + Duration::from_millis(1250), every).is_empty(), "nothing new, nothing sent");
    }

    #[test]
    fn detectors_are_throttled_one_by_one() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        let every = Duration::from_secs(1);
        t.note(v(1, 1, 1));
        assert_eq!(t.due(t0, every).len(), 1);
        t.note(v(1, 2, 2));
        t.note(v(2, 2, 2));
        assert_eq!(t.due(t0 + Duration::from_millis(250), every), vec![v(2, 2, 2)], "a quiet detector is not held");
        assert_eq!(t.due(t0 + Duration::from_millis(1000), every), vec![v(1, 2, 2)]);
        // Detectors idle for a second are forgotten by the throttle.
        assert!(t.due(t0 + Duration::from_secs(5), every).is_empty());
        assert!(t.sent.is_empty());
    }
}
