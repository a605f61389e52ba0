//! What a standby instance shows on its live monitor (issue 6, several instances): only the leading
//! instance runs the alarm engine, so a monitor open on any other instance follows what the engine
//! recorded — the alarm events, in the order written, and the detectors' latest values from their
//! saved state. The events are rebuilt from the alarm's row as it stands when read (its level,
//! repeats, escalation step), which is what the monitor shows: the state a detector is in now.

use crate::Store;
use crate::error::Result;
use crate::gas_write::parse_kind;
use dianxiaoer_core::gas::{AlarmKind, Event, Level};
use sqlx::Row;

/// One recorded alarm event, as the engine broadcast it.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayedEvent {
    /// The event's row id: where the next read starts.
    pub id: i64,
    pub alarm_id: i64,
    pub detector_id: i64,
    pub enterprise_id: i64,
    pub tag: String,
    pub at: i64,
    pub event: Event,
}

/// A detector's latest saved reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayedValue {
    pub detector_id: i64,
    pub enterprise_id: i64,
    pub ts: i64,
    pub value_milli: i64,
    /// When the state was saved (server time): where the next read starts.
    pub saved_at: i64,
}

/// The event a stored row stands for; `None` for a code this build does not know.
fn event_of(
    code: &str,
    kind: AlarmKind,
    level: i64,
    repeats: i64,
    step: i64,
    value: Option<i64>,
    at: i64,
) -> Option<Event> {
    let level = if level >= 2 { Level::Two } else { Level::One };
    Some(match code {
        "raised" => Event::Raised { kind, level },
        "level_raised" => Event::LevelRaised { kind, from: Level::One, to: level },
        "repeated" => Event::Repeated { kind, level, count: u32::try_from(repeats).unwrap_or(0) },
        "cleared" => Event::Cleared { kind },
        "escalated" => Event::EscalatedToRole { kind, role: u8::try_from(step).unwrap_or(u8::MAX) },
        "reminder" => Event::Reminder { kind, level, value: value.unwrap_or(0) as f32 / 1000.0 },
        "offline" => Event::Offline { last_seen: at },
        "online" => Event::Online,
        // The code itself is in the event's note only; any non-zero code shows the fault state.
        "fault" => Event::Fault { code: 1 },
        "acknowledged" => Event::Acknowledged { kind },
        "disposed" => Event::Disposed { kind },
        "closed" => Event::Closed { kind },
        _ => return None,
    })
}

impl Store {
    /// The id of the newest alarm event (0 without any): a relay starting now begins after it.
    pub async fn last_alarm_event_id(&self) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM gas_alarm_events").fetch_one(self.pool()).await?;
        Ok(id.unwrap_or(0))
    }

    /// The alarm events after id `after`, oldest first, at most `limit`.
    pub async fn alarm_events_after(&self, after: i64, limit: i64) -> Result<Vec<RelayedEvent>> {
        let rows = sqlx::query(
            "SELECT e.id, e.alarm_id, e.at, e.event, a.detector_id, a.enterprise_id, a.kind, a.level, a.repeats, \
             a.escalation_step, a.value_milli, d.tag FROM gas_alarm_events e JOIN gas_alarms a ON a.id = e.alarm_id \
             JOIN gas_detectors d ON d.id = a.detector_id WHERE e.id > $1 ORDER BY e.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (id, code, kind): (i64, String, String) = (r.try_get(0)?, r.try_get(3)?, r.try_get(6)?);
            let at: i64 = r.try_get(2)?;
            let event = parse_kind(&kind).and_then(|k| {
                event_of(&code, k, r.try_get(7).ok()?, r.try_get(8).ok()?, r.try_get(9).ok()?, r.try_get(10).ok()?, at)
            });
            let Some(event) = event else {
                tracing::warn!(id, code = %code, kind = %kind, "alarm event not relayed: unknown code");
                continue;
            };
            out.push(RelayedEvent {
                id,
                alarm_id: r.try_get(1)?,
                detector_id: r.try_get(4)?,
                enterprise_id: r.try_get(5)?,
                tag: r.try_get(11)?,
                at,
                event,
            });
        }
        Ok(out)
    }

    /// The latest readings of the detectors whose state was saved at or after `since` (server time).
    pub async fn detector_values_since(&self, since: i64) -> Result<Vec<RelayedValue>> {
        let rows = sqlx::query(
            "SELECT s.detector_id, d.enterprise_id, s.last_ts, s.last_value_milli, s.updated_at FROM gas_detector_state s \
             JOIN gas_detectors d ON d.id = s.detector_id WHERE s.updated_at >= $1 AND s.last_ts IS NOT NULL \
             AND s.last_value_milli IS NOT NULL ORDER BY s.detector_id",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RelayedValue {
                    detector_id: r.try_get(0)?,
                    enterprise_id: r.try_get(1)?,
                    ts: r.try_get(2)?,
                    value_milli: r.try_get(3)?,
                    saved_at: r.try_get(4)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_code_becomes_the_event_the_monitor_knows() {
        let k = AlarmKind::Gas;
        assert_eq!(event_of("raised", k, 2, 0, 0, None, 5), Some(Event::Raised { kind: k, level: Level::Two }));
        assert_eq!(
            event_of("level_raised", k, 2, 0, 0, None, 5),
            Some(Event::LevelRaised { kind: k, from: Level::One, to: Level::Two })
        );
        assert_eq!(
            event_of("repeated", k, 1, 3, 0, None, 5),
            Some(Event::Repeated { kind: k, level: Level::One, count: 3 })
        );
        assert_eq!(event_of("cleared", k, 1, 0, 0, None, 5), Some(Event::Cleared { kind: k }));
        assert_eq!(event_of("escalated", k, 1, 0, 2, None, 5), Some(Event::EscalatedToRole { kind: k, role: 2 }));
        assert_eq!(event_of("offline", AlarmKind::Offline, 1, 0, 0, None, 5), Some(Event::Offline { last_seen: 5 }));
        assert_eq!(event_of("online", AlarmKind::Offline, 1, 0, 0, None, 5), Some(Event::Online));
        assert!(
            matches!(event_of("fault", AlarmKind::Fault, 1, 0, 0, None, 5), Some(Event::Fault { code }) if code != 0)
        );
        for code in ["acknowledged", "disposed", "closed", "reminder"] {
            assert!(event_of(code, k, 1, 0, 0, Some(1500), 5).is_some(), "{code}");
        }
        assert_eq!(event_of("nonsense", k, 1, 0, 0, None, 5), None);
    }
}
