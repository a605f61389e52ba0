//! One-minute aggregates of gas readings (issue 6, storage) and the series the readings chart is
//! drawn from. The aggregates are kept in the transaction that stores the readings, from the rows the
//! insert reports as new, so a duplicate reading never counts twice and a late one lands in its own
//! minute; the upsert merges count, sum, minimum and maximum, so the order readings arrive in does
//! not matter.

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

/// Count, sum, minimum and maximum of some readings, in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agg {
    pub n: i64,
    pub sum: i64,
    pub min: i64,
    pub max: i64,
}

impl Agg {
    fn of(v: i64) -> Agg {
        Agg { n: 1, sum: v, min: v, max: v }
    }

    fn add(&mut self, v: i64) {
        self.n += 1;
        self.sum = self.sum.saturating_add(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
}

/// The readings grouped by (detector, minute start).
pub(crate) fn aggregate(readings: &[ReadingIn]) -> BTreeMap<(i64, i64), Agg> {
    let mut out: BTreeMap<(i64, i64), Agg> = BTreeMap::new();
    for &(d, ts, v) in readings {
        out.entry((d, minute_of(ts))).and_modify(|a| a.add(v)).or_insert_with(|| Agg::of(v));
    }
    out
}

/// Adds newly stored readings to their minutes, inside the readings' transaction.
pub(crate) async fn add_minutes(tx: &mut Tx<'_>, readings: &[ReadingIn]) -> Result<()> {
    let minutes: Vec<((i64, i64), Agg)> = aggregate(readings).into_iter().collect();
    for chunk in minutes.chunks(MINUTE_ROWS) {
        let mut s = Sql::new(
            "INSERT INTO gas_reading_minutes (detector_id, minute, n, sum_milli, min_milli, max_milli) VALUES ",
        );
        for (i, ((d, minute), a)) in chunk.iter().enumerate() {
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

impl Store {
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
        // SUM of BIGINT is NUMERIC on PostgreSQL, which the Any driver cannot read: cast back.
        let rows = sqlx::query(
            "SELECT (minute - $2) / $4 AS k, CAST(SUM(n) AS BIGINT), CAST(SUM(sum_milli) AS BIGINT), \
             MIN(min_milli), MAX(max_milli) FROM gas_reading_minutes \
             WHERE detector_id = $1 AND minute >= $2 AND minute < $3 GROUP BY k ORDER BY k",
        )
        .bind(id)
        .bind(minute_of(from))
        .bind(to)
        .bind(bucket_ms)
        .fetch_all(self.pool())
        .await?;
        let start = minute_of(from);
        let rows = rows
            .iter()
            .map(|r| {
                Ok(MinuteBucket {
                    start: start + r.try_get::<i64, _>(0)? * bucket_ms,
                    n: r.try_get(1)?,
                    sum_milli: r.try_get(2)?,
                    min_milli: r.try_get(3)?,
                    max_milli: r.try_get(4)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Series::Buckets { bucket_ms, rows })
    }

    /// The minute aggregates of a detector over `[from, to)`, unscoped (tests and checks).
    pub async fn minute_rows(&self, id: i64, from: i64, to: i64) -> Result<Vec<MinuteBucket>> {
        let rows = sqlx::query(
            "SELECT minute, n, sum_milli, min_milli, max_milli FROM gas_reading_minutes \
             WHERE detector_id = $1 AND minute >= $2 AND minute < $3 ORDER BY minute",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MinuteBucket {
                    start: r.try_get(0)?,
                    n: r.try_get(1)?,
                    sum_milli: r.try_get(2)?,
                    min_milli: r.try_get(3)?,
                    max_milli: r.try_get(4)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_group_by_detector_and_minute() {
        let t = 1_772_413_200_000;
        let got = aggregate(&[(1, t + 5, 10), (1, t + 59_999, -4), (1, t + 60_000, 7), (2, t, 3), (1, t + 30_000, 30)]);
        assert_eq!(got[&(1, t)], Agg { n: 3, sum: 36, min: -4, max: 30 });
        assert_eq!(got[&(1, t + 60_000)], Agg { n: 1, sum: 7, min: 7, max: 7 });
        assert_eq!(got[&(2, t)], Agg { n: 1, sum: 3, min: 3, max: 3 });
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn the_mean_is_derived() {
        let b = MinuteBucket { start: 0, n: 4, sum_milli: 10, min_milli: 1, max_milli: 4 };
        assert_eq!(b.mean_milli(), 2.5);
        assert_eq!(MinuteBucket { n: 0, ..b }.mean_milli(), 0.0);
    }
}
