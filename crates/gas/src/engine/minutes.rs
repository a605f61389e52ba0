//! The one-minute aggregates of the open minutes, kept by the engine between steps: each (detector,
//! minute) is written once, after its minute has closed, instead of an upsert per reading. What is
//! in memory is always a committed reading's, and the table plus memory is every stored reading:
//! a step adds to memory only after its commit, and a closing chunk leaves memory only then.
//!
//! `from` is the first minute kept here ([`dianxiaoer_store::OPEN_FROM`] in the store): readings of
//! earlier minutes — late ones — go straight into the table in their step. A crash loses memory;
//! the next engine to take over rebuilds the minutes from `from` on from the raw readings
//! ([`dianxiaoer_store::Store::recover_minutes`]).

use dianxiaoer_core::gas::retention::minute_of;
use dianxiaoer_store::{MinuteAgg, MinuteIn, ReadingIn};
use std::collections::BTreeMap;

const MINUTE: i64 = 60_000;

/// Most aggregates one step writes, so that closing a minute of 100,000 detectors is spread over
/// steps rather than stalling one.
pub(super) const CLOSE_PER_STEP: usize = 500;

pub(super) struct Minutes {
    /// By (minute, detector): the oldest minutes first.
    open: BTreeMap<(i64, i64), MinuteAgg>,
    /// `i64::MAX`: nothing kept (not taken over, or closed for good at shutdown).
    pub(super) from: i64,
}

impl Default for Minutes {
    fn default() -> Minutes {
        Minutes { open: BTreeMap::new(), from: i64::MAX }
    }
}

/// What a step writes of the minutes: aggregates to add, and the new first open minute.
#[derive(Debug, Default)]
pub(super) struct Closing {
    pub(super) rows: Vec<MinuteIn>,
    /// The first minute kept after this step.
    pub(super) from: i64,
}

impl Minutes {
    /// Starts keeping the minutes from `from` on (after the store rebuilt the earlier ones).
    pub(super) fn open(&mut self, from: i64) {
        self.open.clear();
        self.from = from;
    }

    /// The next chunk of minutes before `until` to write (at most [`CLOSE_PER_STEP`]), and the
    /// first minute kept after it: `until` once all before it are written. `None`: nothing kept.
    pub(super) fn closing(&self, until: i64) -> Option<Closing> {
        if self.from == i64::MAX {
            return None;
        }
        let rows: Vec<MinuteIn> = self
            .open
            .iter()
            .take_while(|((m, _), _)| *m < until)
            .take(CLOSE_PER_STEP)
            .map(|(&(m, d), a)| (d, m, *a))
            .collect();
        let next = self.open.iter().nth(rows.len()).map(|((m, _), _)| *m).filter(|m| *m < until);
        Some(Closing { rows, from: next.unwrap_or(until).max(self.from) })
    }

    /// The minutes to close in a step at `now`: those before the previous minute (readings of the
    /// minute just ended still arrive for a while).
    pub(super) fn due(&self, now: i64) -> Option<Closing> {
        self.closing(minute_of(now) - MINUTE).filter(|c| !c.rows.is_empty() || c.from != self.from)
    }

    /// After the step's commit: drops what it wrote and keeps its new readings' minutes.
    pub(super) fn committed(&mut self, closing: Option<Closing>, inserted: &[ReadingIn]) {
        if let Some(c) = closing {
            for (d, m, _) in &c.rows {
                self.open.remove(&(*m, *d));
            }
            self.from = c.from;
        }
        if self.from == i64::MAX {
            return;
        }
        for &(d, ts, v) in inserted {
            let m = minute_of(ts);
            if m >= self.from {
                self.open.entry((m, d)).and_modify(|a| a.add(v)).or_insert_with(|| MinuteAgg::of(v));
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const T: i64 = 1_772_413_200_000;

    #[test]
    fn minutes_close_once_the_next_one_ended() {
        let mut m = Minutes::default();
        m.committed(None, &[(1, T, 5)]);
        assert_eq!(m.len(), 0, "not taken over: nothing kept");
        m.open(T);
        m.committed(None, &[(1, T, 5), (1, T + 1000, 7), (2, T + 61_000, 1), (1, T - 1, 9)]);
        assert_eq!(m.len(), 2, "the reading before `from` went to the table");
        assert!(m.due(T + 119_999).is_none(), "the previous minute stays open");
        let c = m.due(T + 120_000).unwrap();
        assert_eq!(c.rows, vec![(1, T, MinuteAgg { n: 2, sum: 12, min: 5, max: 7 })]);
        assert_eq!(c.from, T + MINUTE);
        m.committed(Some(c), &[]);
        assert_eq!((m.len(), m.from), (1, T + MINUTE));
        // At shutdown everything closes, and nothing is kept any more.
        let c = m.closing(i64::MAX).unwrap();
        assert_eq!((c.rows.len(), c.from), (1, i64::MAX));
        m.committed(Some(c), &[(3, T + 200_000, 1)]);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn a_large_minute_closes_in_chunks() {
        let mut m = Minutes::default();
        m.open(T);
        let readings: Vec<ReadingIn> = (0..CLOSE_PER_STEP as i64 + 10).map(|d| (d, T + 5, 1)).collect();
        m.committed(None, &readings);
        let c = m.due(T + 180_000).unwrap();
        assert_eq!((c.rows.len(), c.from), (CLOSE_PER_STEP, T), "the minute is not complete in the table yet");
        m.committed(Some(c), &[(0, T + 6, 1)]);
        let c = m.due(T + 180_000).unwrap();
        assert_eq!((c.rows.len(), c.from), (11, T + 2 * MINUTE));
        assert!(c.rows.iter().any(|r| r == &(0, T, MinuteAgg { n: 1, sum: 1, min: 1, max: 1 })));
    }
}
