//! What the engine reports: alarm kinds, levels and events, in a fixed-capacity container so that
//! evaluating a reading never allocates.

use serde::{Deserialize, Serialize};

/// The kinds of alarm a detector can have; at most one open alarm of each kind at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// Combustible or toxic gas at or above a set-point (levels 一级 and 二级).
    Gas = 0,
    /// 欠氧: oxygen at or below the low set-point.
    OxygenLow = 1,
    /// 过氧: oxygen at or above the high set-point.
    OxygenHigh = 2,
    /// 离线: no message for `offline_after_missed` intervals.
    Offline = 3,
    /// 故障: the device reported a fault code.
    Fault = 4,
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 5] =
        [AlarmKind::Gas, AlarmKind::OxygenLow, AlarmKind::OxygenHigh, AlarmKind::Offline, AlarmKind::Fault];

    pub fn label(self) -> &'static str {
        match self {
            AlarmKind::Gas => "气体浓度",
            AlarmKind::OxygenLow => "欠氧",
            AlarmKind::OxygenHigh => "过氧",
            AlarmKind::Offline => "离线",
            AlarmKind::Fault => "故障",
        }
    }

    /// Whether the alarm is about the measured value (so reminders apply while it stays active).
    pub fn is_concentration(self) -> bool {
        matches!(self, AlarmKind::Gas | AlarmKind::OxygenLow | AlarmKind::OxygenHigh)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Alarm level. Gas alarms have two (GB/T 50493-2019 §5.5); the other kinds only [`Level::One`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[default]
    #[serde(rename = "1")]
    One = 1,
    #[serde(rename = "2")]
    Two = 2,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::One => "一级",
            Level::Two => "二级",
        }
    }
}

/// Something the runtime must record, show or notify.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new alarm opened.
    Raised {
        kind: AlarmKind,
        level: Level,
    },
    /// The open alarm's level went up (一级 → 二级); it needs acknowledging again.
    LevelRaised {
        kind: AlarmKind,
        from: Level,
        to: Level,
    },
    /// The condition came back while the alarm was cleared but not yet closed; `count` repeats so far.
    Repeated {
        kind: AlarmKind,
        level: Level,
        count: u32,
    },
    /// The value is back to normal (or the device back online, or the fault gone).
    Cleared {
        kind: AlarmKind,
    },
    /// Nobody acknowledged in time: notify role `role` (1 = the first role above the on-duty one).
    EscalatedToRole {
        kind: AlarmKind,
        role: u8,
    },
    /// The alarm is still active: remind, with the latest value.
    Reminder {
        kind: AlarmKind,
        level: Level,
        value: f32,
    },
    /// No message since `last_seen` (server time, ms).
    Offline {
        last_seen: i64,
    },
    /// A message arrived from a detector that was offline.
    Online,
    /// The device reported a new fault code.
    Fault {
        code: u16,
    },
    Acknowledged {
        kind: AlarmKind,
    },
    Disposed {
        kind: AlarmKind,
    },
    Closed {
        kind: AlarmKind,
    },
}

impl Event {
    /// Whether the event should reach people (SMS, app push), not only the alarm list. Repeats and
    /// clears of an alarm people already know about do not notify, so a flapping value does not flood
    /// notifications (ThingsBoard #15103). The status events `Offline`, `Online` and `Fault` update
    /// the device's status; the alarm event that comes with them carries the notification.
    pub fn notifies(&self) -> bool {
        matches!(
            self,
            Event::Raised { .. } | Event::LevelRaised { .. } | Event::EscalatedToRole { .. } | Event::Reminder { .. }
        )
    }
}

/// The most events one call can produce: a reading gives at most 2 per concentration alarm (4 for
/// oxygen) plus `Online` and the offline clear; a tick at most 2 per kind plus 2 for going offline.
pub const MAX_EVENTS: usize = 16;

/// Events of one call, on the stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Events {
    items: [Event; MAX_EVENTS],
    len: usize,
}

impl Default for Events {
    fn default() -> Events {
        Events::new()
    }
}

impl Events {
    pub const fn new() -> Events {
        Events { items: [Event::Online; MAX_EVENTS], len: 0 }
    }

    /// Appends; the capacity covers every call (see [`MAX_EVENTS`]), so nothing is ever dropped.
    pub(crate) fn push(&mut self, event: Event) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = event;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[Event] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Event> {
        self.as_slice().iter()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_hold_up_to_capacity_without_allocating() {
        let mut e = Events::new();
        assert!(e.is_empty());
        for _ in 0..MAX_EVENTS + 3 {
            e.push(Event::Cleared { kind: AlarmKind::Gas });
        }
        assert_eq!(e.len(), MAX_EVENTS);
        assert_eq!(e.iter().count(), MAX_EVENTS);
        assert!(std::mem::size_of::<Event>() <= 16);
    }

    #[test]
    fn only_news_notifies() {
        assert!(Event::Raised { kind: AlarmKind::Gas, level: Level::One }.notifies());
        assert!(!Event::Repeated { kind: AlarmKind::Gas, level: Level::One, count: 2 }.notifies());
        assert!(!Event::Cleared { kind: AlarmKind::Gas }.notifies());
        assert!(!Event::Offline { last_seen: 0 }.notifies());
        let json = serde_json::to_string(&Event::Raised { kind: AlarmKind::OxygenLow, level: Level::One });
        assert_eq!(json.ok().as_deref(), Some(r#"{"event":"raised","kind":"oxygen_low","level":"1"}"#));
    }
}
