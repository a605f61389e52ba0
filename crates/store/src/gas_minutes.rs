//! One-minute aggregates of gas readings (issue 6, storage) and the series the readings chart is
//! drawn from. Aggregates are made from the rows the insert reports as new, so a duplicate reading
//! never counts twice and a late one lands in its own minute; the upsert adds count and sum and
//! merges minimum and maximum, so the order readings arrive in does not matter.
//!
//! The alarm engine keeps the aggregates of the open minutes in memory and writes each (detector,
//! minute) once its minute has closed, instead of an upsert per reading; only late readings, of
//! minutes already closed, are added in the readings' transaction. The setting [`OPEN_FROM`] says
//! from which minute on the table may still lack readings: reads take those minutes from the raw
//! readings instead, and [`Store::recover_minutes`] rebuilds them from the raw readings when an
//! engine takes over after a crash lost what it held.

use crate::error::Result;
use crate::gas::ReadingRow;
use crate::gas_write::ReadingIn;
use crate::sql::Sql;
use crate::{Store, Tx};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::gas::retention::minute_of;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// Rows per upsert statement: six values each.
const MINUTE_ROWS: usize = 300;

/// The setting (table `settings`) holding the first minute (epoch ms) whose aggregate may be
/// incomplete in `gas_reading_minutes`; absent or `i64::MAX`: every minute is complete.
pub const OPEN_FROM: &str = "gas_minutes_open_from";

/// Count, sum, minimum and maximum of some readings, in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteAgg {
    pub n: i64,
    pub sum: i64,
    pub min: i64,
    pub max: i64,
}

impl MinuteAgg {
    pub fn of(v: i64) -> MinuteAgg {
        MinuteAgg { n: 1, sum: v, min: v, max: v }
    }

    pub fn add(&mut self, v: i64) {
        self.n += 1;
        self.sum = self.sum.saturating_add(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
}

/// One aggregate to add: (detector, minute start, aggregate).
pub type MinuteIn = (i64, i64, MinuteAgg);

/// The readings grouped by (detector, minute start).
pub(crate) fn aggregate(readings: &[ReadingIn]) -> BTreeMap<(i64, i64), MinuteAgg> {
    let mut out: BTreeMap<(i64, i64), MinuteAgg> = BTreeMap::new();
    for &(d, ts, v) in readings {
        out.entry((d, minute_of(ts))).and_modify(|a| a.add(v)).or_insert_with(|| MinuteAgg::of(v));
    }
    out
}

/// Adds newly stored readings to their minutes, inside the readings' transaction.
pub(crate) async fn add_minutes(tx: &mut Tx<'_>, readings: &[ReadingIn]) -> Result<()> {
    let minutes: Vec<MinuteIn> = aggregate(readings).into_iter().map(|((d, m), a)| (d, m, a)).collect();
    add_aggregates(tx, &minutes).await
}

/// Adds aggregates to their rows.
pub(crate) async fn add_aggregates(tx: &mut Tx<'_>, minutes: &[MinuteIn]) -> Result<()> {
    for chunk in minutes.chunks(MINUTE_ROWS) {
        let mut s = Sql::new(
            "INSERT INTO gas_reading_minutes (detector_id, minute, n, sum_milli, min_milli, max_milli) VALUES ",
        );
        for (i, (d, minute, a)) in chunk.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" });
            s.i64(*d).push(", ").i64(*minute).push(", ").i64(a.n).push(", ").i64(a.sum).push(", ");
            s.i64(a.min).push(", ").i64(a.max).push(")");
        }
        // CASE rather than LEAST/GREATEST (PostgreSQL) or min/max (SQLite): one text for both.
        s.push(
            " ON CONFLICT (detector_id, minute) DO UPDATE SET n = gas_reading_minutes.n + excluded.n, \
             sum_milli = gas_reading_minutes.sum_milli + excluded.sum_milli, \
             min_milli = CASE WHEN excluded.min_milli < gas_reading_minutes.min_milli \
                 THEN excluded.min_milli ELSE gas_reading_minutes.min_milli END, \
             max_milli = CASE WHEN excluded.max_milli > gas_reading_minutes.max_milli \
                 THEN excluded.max_milli ELSE gas_reading_minutes.max_milli END",
        );
        s.for_backend(tx.backend)
            .query()
            .persistent(crate::gas_write::full(chunk, MINUTE_ROWS))
            .execute(&mut *tx.tx)
            .await?;
    }
    Ok(())
}

/// Records [`OPEN_FROM`] inside a transaction.
pub(crate) async fn set_open_from(tx: &mut Tx<'_>, from: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(OPEN_FROM)
    .bind(from.to_string())
    .bind(now)
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

/// The readings of one time bucket, from the minute aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MinuteBucket {
    /// Start of the bucket, epoch ms.
    pub start: i64,
    pub n: i64,
    pub sum_milli: i64,
    pub min_milli: i64,
    pub max_milli: i64,
}

impl MinuteBucket {
    fn merge(&mut self, o: &MinuteBucket) {
        self.n += o.n;
        self.sum_milli = self.sum_milli.saturating_add(o.sum_milli);
        self.min_milli = self.min_milli.min(o.min_milli);
        self.max_milli = self.max_milli.max(o.max_milli);
    }

    /// The mean, in thousandths (derived: only the sum and count are stored).
    pub fn mean_milli(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum_milli as f64 / self.n as f64 }
    }
}

/// A detector's readings over a time range, as the chart draws them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Series {
    /// Every stored reading, oldest first.
    Raw(Vec<ReadingRow>),
    /// Buckets of `bucket_ms` merged from the minute aggregates, oldest first; empty buckets absent.
    Buckets { bucket_ms: i64, rows: Vec<MinuteBucket> },
}

/// A minute row: start, count, sum, min, max.
fn bucket(r: &sqlx::any::AnyRow) -> Result<MinuteBucket> {
    Ok(MinuteBucket {
        start: r.try_get(0)?,
        n: r.try_get(1)?,
        sum_milli: r.try_get(2)?,
        min_milli: r.try_get(3)?,
        max_milli: r.try_get(4)?,
    })
}

impl Store {
    /// The first minute whose aggregate may be incomplete in the table ([`OPEN_FROM`]).
    pub async fn minutes_open_from(&self) -> Result<i64> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(OPEN_FROM)
            .fetch_optional(self.pool())
            .await?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(i64::MAX))
    }

    /// Rebuilds the aggregates of the minutes from [`OPEN_FROM`] on from the raw readings, and
    /// moves the setting to `open_from`: an engine taking over calls it, since whatever the
    /// previous one held in memory for those minutes is gone. Returns the rows rebuilt.
    pub async fn recover_minutes(&self, open_from: i64, now: i64) -> Result<u64> {
        let from = self.minutes_open_from().await?;
        let mut tx = self.begin().await?;
        let mut n = 0;
        if from != i64::MAX {
            // `detector_id IN (…)` walks the primary key (detector, time) rather than the table.
            n = sqlx::query(
                "INSERT INTO gas_reading_minutes (detector_id, minute, n, sum_milli, min_milli, max_milli) \
                 SELECT detector_id, (ts / 60000) * 60000, COUNT(*), SUM(value_milli), MIN(value_milli), \
                 MAX(value_milli) FROM gas_readings WHERE detector_id IN (SELECT id FROM gas_detectors) \
                 AND ts >= $1 GROUP BY detector_id, (ts / 60000) * 60000 \
                 ON CONFLICT (detector_id, minute) DO UPDATE SET n = excluded.n, sum_milli = excluded.sum_milli, \
                 min_milli = excluded.min_milli, max_milli = excluded.max_milli",
            )
            .bind(minute_of(from))
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        }
        set_open_from(&mut tx, open_from, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The minutes at or after `open_from` of a detector over `[from, to)`, from its raw readings.
    async fn open_minutes(&self, id: i64, open_from: i64, from: i64, to: i64) -> Result<Vec<MinuteBucket>> {
        if open_from >= to {
            return Ok(Vec::new());
        }
        // SUM of BIGINT is NUMERIC on PostgreSQL, which the Any driver cannot read: cast back.
        let rows = sqlx::query(
            "SELECT (ts / 60000) * 60000 AS m, COUNT(*), CAST(SUM(value_milli) AS BIGINT), MIN(value_milli), \
             MAX(value_milli) FROM gas_readings WHERE detector_id = $1 AND ts >= $2 AND ts < $3 GROUP BY m ORDER BY m",
        )
        .bind(id)
        .bind(open_from.max(minute_of(from)))
        .bind(minute_of(to.saturating_sub(1)).saturating_add(60_000))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(bucket).collect()
    }

    /// The readings of a detector in scope with `from <= ts < to`: the raw readings when `raw` and
    /// there are at most `raw_max` of them, otherwise the minute aggregates merged into buckets of
    /// `bucket_ms` (a multiple of a minute) aligned on `from`. `NotFound` outside scope.
    pub async fn reading_series(
        &self,
        scope_: &Scope,
        id: i64,
        (from, to): (i64, i64),
        raw: bool,
        bucket_ms: i64,
        raw_max: i64,
    ) -> Result<Series> {
        self.detector(scope_, id).await?;
        if raw {
            let rows = sqlx::query(
                "SELECT ts, value_milli FROM gas_readings WHERE detector_id = $1 AND ts >= $2 AND ts < $3 \
                 ORDER BY ts LIMIT $4",
            )
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(raw_max + 1)
            .fetch_all(self.pool())
            .await?;
            if rows.len() as i64 <= raw_max {
                let out = rows.iter().map(|r| Ok(ReadingRow { ts: r.try_get(0)?, value_milli: r.try_get(1)? }));
                return Ok(Series::Raw(out.collect::<Result<_>>()?));
            }
        }
        let bucket_ms = (bucket_ms / 60_000).max(1) * 60_000;
        let open_from = self.minutes_open_from().await?;
        // SUM of BIGINT is NUMERIC on PostgreSQL, which the Any driver cannot read: cast back.
        let rows = sqlx::query(
            "SELECT (minute - $2) / $4 AS k, CAST(SUM(n) AS BIGINT), CAST(SUM(sum_milli) AS BIGINT), \
             MIN(min_milli), MAX(max_milli) FROM gas_reading_minutes \
             WHERE detector_id = $1 AND minute >= $2 AND minute < $3 AND minute < $5 GROUP BY k ORDER BY k",
        )
        .bind(id)
        .bind(minute_of(from))
        .bind(to)
        .bind(bucket_ms)
        .bind(open_from)
        .fetch_all(self.pool())
        .await?;
        let start = minute_of(from);
        let mut buckets: BTreeMap<i64, MinuteBucket> = BTreeMap::new();
        for r in &rows {
            let b = MinuteBucket {
                start: start + r.try_get::<i64, _>(0)? * bucket_ms,
                n: r.try_get(1)?,
                sum_milli: r.try_get(2)?,
                min_milli: r.try_get(3)?,
                max_milli: r.try_get(4)?,
            };
            buckets.insert(b.start, b);
        }
        for m in self.open_minutes(id, open_from, from, to).await? {
            let k = start + (m.start - start).div_euclid(bucket_ms) * bucket_ms;
            buckets.entry(k).and_modify(|b| b.merge(&m)).or_insert(MinuteBucket { start: k, ..m });
        }
        Ok(Series::Buckets { bucket_ms, rows: buckets.into_values().collect() })
    }

    /// The minute aggregates of a detector over `[from, to)`, unscoped (tests and checks).
    pub async fn minute_rows(&self, id: i64, from: i64, to: i64) -> Result<Vec<MinuteBucket>> {
        let open_from = self.minutes_open_from().await?;
        let rows = sqlx::query(
            "SELECT minute, n, sum_milli, min_milli, max_milli FROM gas_reading_minutes \
             WHERE detector_id = $1 AND minute >= $2 AND minute < $3 AND minute < $4 ORDER BY minute",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(open_from)
        .fetch_all(self.pool())
        .await?;
        let open = self.open_minutes(id, open_from, from, to).await?;
        let stored = rows.iter().map(bucket).collect::<Result<Vec<_>>>()?;
        Ok(stored.into_iter().chain(open).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_group_by_detector_and_minute() {
        let t = 1_772_413_200_000;
        let got = aggregate(&[(1, t + 5, 10), (1, t + 59_999, -4), (1, t + 60_000, 7), (2, t, 3), (1, t + 30_000, 30)]);
        assert_eq!(got[&(1, t)], MinuteAgg { n: 3, sum: 36, min: -4, max: 30 });
        assert_eq!(got[&(1, t + 60_000)], MinuteAgg { n: 1, sum: 7, min: 7, max: 7 });
        assert_eq!(got[&(2, t)], MinuteAgg { n: 1, sum: 3, min: 3, max: 3 });
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn the_mean_is_derived() {
        let b = MinuteBucket { start: 0, n: 4, sum_milli: 10, min_milli: 1, max_milli: 4 };
        assert_eq!(b.mean_milli(), 2.5);
        assert_eq!(MinuteBucket { n: 0, ..b }.mean_milli(), 0.0);
    }
}
