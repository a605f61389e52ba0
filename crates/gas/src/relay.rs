//! The live monitor on a standby instance (issue 6, several instances): only the leading instance
//! runs the alarm engine, so while this one stands by it reads back, every [`EVERY`], the alarm
//! events and the detectors' values the leader recorded since the previous read
//! ([`Store::alarm_events_after`], [`Store::detector_values_since`]) and broadcasts them on its own
//! channels. A monitor open on any instance then shows every alarm and status change within a second,
//! as on the leader; values arrive as the leader saves detector states (when their alarm-relevant
//! part moves, else at most every 30 s: `engine.rs`), so a standby's values may be that much older.
//! Nothing is read while nobody follows the streams; a new follower starts from that moment.

use crate::engine::{Engine, GasEvent};
use crate::live::LiveValue;
use dianxiaoer_store::{Result, Store};
use std::time::Duration;

/// How often a standby reads what the leader recorded.
pub const EVERY: Duration = Duration::from_millis(500);
/// Most events relayed per read; the rest follow at the next.
const MAX_EVENTS: i64 = 1_000;

/// Where the relay stands: after the last event read, and from when values are new.
#[derive(Debug, Default)]
pub(crate) struct Relay {
    /// `None` until something follows the streams.
    position: Option<(i64, i64)>,
}

impl Relay {
    /// One read (module docs); answers how many events were relayed.
    pub(crate) async fn poll(&mut self, engine: &Engine, store: &Store) -> Result<usize> {
        if !engine.watched() {
            self.position = None;
            return Ok(0);
        }
        let (after, since) = match self.position {
            Some(p) => p,
            None => {
                let start = (store.last_alarm_event_id().await?, engine.now());
                self.position = Some(start);
                return Ok(0);
            }
        };
        let events = store.alarm_events_after(after, MAX_EVENTS).await?;
        let values = store.detector_values_since(since).await?;
        let after = events.last().map_or(after, |e| e.id);
        let since = values.iter().map(|v| v.saved_at + 1).max().unwrap_or(since);
        self.position = Some((after, since));
        let n = events.len();
        let events = events
            .into_iter()
            .map(|e| GasEvent {
                detector_id: e.detector_id,
                enterprise_id: e.enterprise_id,
                tag: e.tag,
                alarm_id: Some(e.alarm_id),
                at: e.at,
                event: e.event,
            })
            .collect();
        let values = values
            .into_iter()
            .map(|v| LiveValue {
                detector_id: v.detector_id,
                enterprise_id: v.enterprise_id,
                ts: v.ts,
                value_milli: v.value_milli,
            })
            .collect();
        engine.relay(events, values);
        Ok(n)
    }
}
