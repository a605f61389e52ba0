//! How long gas readings are kept (issue 6, storage): raw readings 30 days and one-minute aggregates
//! a year by default, both configurable, and the days by which PostgreSQL partitions the raw
//! readings. Days are Beijing dates (UTC+8, DESIGN.md principle 9), so a partition holds one calendar
//! day as the people reading the charts count it.

use super::GasError;
use crate::when::{DAY_MS, OFFSET_MS, civil_from_days, days_from_civil, days_in_month};

pub const MINUTE_MS: i64 = 60_000;
pub const DEFAULT_RAW_DAYS: i64 = 30;
pub const DEFAULT_MINUTE_DAYS: i64 = 365;
/// Ten years: beyond that a typo is likelier than a policy.
pub const MAX_DAYS: i64 = 3650;
/// Partitions created ahead of today, so that no reading of the next days waits for the job.
pub const PARTITIONS_AHEAD: i64 = 3;
/// Prefix of the daily partitions' table names: `gas_readings_p20260302`.
pub const PARTITION_PREFIX: &str = "gas_readings_p";

/// Validated retention periods, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    raw_days: i64,
    minute_days: i64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention { raw_days: DEFAULT_RAW_DAYS, minute_days: DEFAULT_MINUTE_DAYS }
    }
}

impl Retention {
    /// Raw and aggregate retention, each 1 to 3650 days; the aggregates, from which the long charts
    /// are drawn, may not be kept shorter than the raw readings they summarise.
    pub fn new(raw_days: i64, minute_days: i64) -> Result<Retention, GasError> {
        if !(1..=MAX_DAYS).contains(&raw_days) {
            return Err(GasError::new(format!("原始读数保留天数应为 1～{MAX_DAYS}")));
        }
        if !(1..=MAX_DAYS).contains(&minute_days) {
            return Err(GasError::new(format!("分钟汇总保留天数应为 1～{MAX_DAYS}")));
        }
        if minute_days < raw_days {
            return Err(GasError::new("分钟汇总保留天数不能少于原始读数保留天数"));
        }
        Ok(Retention { raw_days, minute_days })
    }

    pub fn raw_days(&self) -> i64 {
        self.raw_days
    }

    pub fn minute_days(&self) -> i64 {
        self.minute_days
    }

    /// Raw readings older than this (epoch ms) are removed.
    pub fn raw_cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(self.raw_days * DAY_MS)
    }

    /// Minutes starting before this are removed; a minute is kept whole until it is entirely old.
    pub fn minute_cutoff(&self, now: i64) -> i64 {
        minute_of(now.saturating_sub(self.minute_days * DAY_MS))
    }
}

/// The start of the minute holding `ts`.
pub fn minute_of(ts: i64) -> i64 {
    ts.div_euclid(MINUTE_MS) * MINUTE_MS
}

/// A Beijing calendar day, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The day holding instant `ts`.
    pub fn of(ts: i64) -> Day {
        Day((ts + OFFSET_MS).div_euclid(DAY_MS))
    }

    /// Its first instant (Beijing midnight), epoch ms.
    pub fn start(self) -> i64 {
        self.0 * DAY_MS - OFFSET_MS
    }

    /// The first instant of the next day: a partition holds `start() <= ts < end()`.
    pub fn end(self) -> i64 {
        self.start() + DAY_MS
    }

    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// The table name of the day's partition. Made of digits only past the fixed prefix, so it may be
    /// written into DDL, where identifiers cannot be bound parameters.
    pub fn partition_name(self) -> String {
        let (y, m, d) = civil_from_days(self.0);
        format!("{PARTITION_PREFIX}{y:04}{m:02}{d:02}")
    }

    /// The day of a partition named by [`Day::partition_name`]; `None` for any other table.
    pub fn from_partition_name(name: &str) -> Option<Day> {
        let digits = name.strip_prefix(PARTITION_PREFIX)?;
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let y: i64 = digits[..4].parse().ok()?;
        let m: u32 = digits[4..6].parse().ok()?;
        let d: u32 = digits[6..].parse().ok()?;
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Day(days_from_civil(y, m, d)))
    }
}

/// The days whose partitions should exist at `now`: today and [`PARTITIONS_AHEAD`] days after.
pub fn days_ahead(now: i64) -> impl Iterator<Item = Day> {
    let today = Day::of(now);
    (0..=PARTITIONS_AHEAD).map(move |k| today.plus(k))
}

/// Whether a day's partition holds only readings older than `cutoff`, so it can be dropped whole.
pub fn droppable(day: Day, cutoff: i64) -> bool {
    day.end() <= cutoff
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// 2026-03-02 09:00 Beijing time.
    const T: i64 = 1_772_413_200_000;

    #[test]
    fn days_follow_beijing_midnight() {
        let d = Day::of(T);
        assert_eq!(d.partition_name(), "gas_readings_p20260302");
        assert_eq!(crate::when::format_ms(d.start()), "2026-03-02 00:00:00");
        assert_eq!(d.end() - d.start(), DAY_MS);
        // 23:59:59.999 Beijing is still the same day; midnight is the next.
        assert_eq!(Day::of(d.end() - 1), d);
        assert_eq!(Day::of(d.end()), d.plus(1));
        assert_eq!(Day::of(d.start()), d);
    }

    #[test]
    fn partition_names_round_trip() {
        let d = Day::of(T);
        for k in [-400, -1, 0, 1, 365] {
            let day = d.plus(k);
            assert_eq!(Day::from_partition_name(&day.partition_name()), Some(day));
        }
        for bad in ["gas_readings_default", "gas_readings_p2026030", "gas_readings_p20260230", "x20260302"] {
            assert_eq!(Day::from_partition_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn retention_is_validated() {
        assert_eq!(Retention::default(), Retention::new(30, 365).unwrap());
        assert!(Retention::new(0, 365).is_err());
        assert!(Retention::new(30, 3651).is_err());
        assert!(Retention::new(40, 30).is_err());
        let r = Retention::new(1, 2).unwrap();
        assert_eq!(r.raw_cutoff(T), T - DAY_MS);
        assert_eq!(r.minute_cutoff(T + 59_999), minute_of(T + 59_999 - 2 * DAY_MS));
    }

    #[test]
    fn minutes_and_drops() {
        assert_eq!(minute_of(T + 59_999), T);
        assert_eq!(minute_of(T + 60_000), T + 60_000);
        let today = Day::of(T);
        assert!(droppable(today.plus(-31), Retention::default().raw_cutoff(T)));
        // The day straddling the cutoff is kept until all of it is old.
        let cutoff = Retention::default().raw_cutoff(T);
        assert!(!droppable(Day::of(cutoff), cutoff));
        let ahead: Vec<Day> = days_ahead(T).collect();
        assert_eq!(ahead.first(), Some(&today));
        assert_eq!(ahead.len() as i64, PARTITIONS_AHEAD + 1);
    }
}
