//! The retention job's storage side (issue 6, storage): raw readings older than their retention are
//! removed, and so are one-minute aggregates. On SQLite rows are deleted in batches; on PostgreSQL,
//! where the raw readings are partitioned by Beijing day (migration 0015), the job creates the
//! partitions of the coming days, moves any rows the default partition caught into their day's new
//! partition, and drops whole partitions once every reading in them is old — so a day's partition
//! lives until its last instant passes the cutoff (raw readings are kept between N and N + 1 days).

use crate::error::Result;
use crate::url::Backend;
use crate::{Store, Tx};
use dianxiaoer_core::gas::retention::{Day, Retention, days_ahead, droppable};
use serde::Serialize;
use sqlx::Row;

/// Rows removed per statement and transaction, so the engine's writes interleave with a long prune.
pub const PRUNE_BATCH: i64 = 10_000;

/// Serialises partition changes between instances (any constant; migrations use 7233001).
const PARTITION_LOCK: i64 = 7_233_015;

/// The most days of default-partition rows one run moves into new partitions.
const MAX_DAYS_MOVED: i64 = 400;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// PostgreSQL partitions created, by table name.
    pub partitions_created: Vec<String>,
    /// PostgreSQL partitions dropped.
    pub partitions_dropped: Vec<String>,
    /// Rows moved from the default partition into their day's partition.
    pub rows_moved: i64,
    /// Raw readings deleted row by row (SQLite, and PostgreSQL's default partition).
    pub readings_deleted: i64,
    pub minutes_deleted: i64,
}

impl Store {
    /// One run of the retention job at `now`: partitions ahead (PostgreSQL), then pruning.
    pub async fn gas_retention(&self, now: i64, retention: &Retention) -> Result<RetentionReport> {
        let mut report = RetentionReport::default();
        let raw_cutoff = retention.raw_cutoff(now);
        if self.backend == Backend::Postgres {
            self.ensure_partitions(now, raw_cutoff, &mut report).await?;
            for (name, day) in self.reading_partitions().await? {
                if droppable(day, raw_cutoff) && self.drop_partition(&name).await? {
                    report.partitions_dropped.push(name);
                }
            }
        }
        let readings = match self.backend {
            Backend::Sqlite => {
                "DELETE FROM gas_readings WHERE (detector_id, ts) IN (SELECT detector_id, ts FROM gas_readings \
                 WHERE detector_id IN (SELECT id FROM gas_detectors) AND ts < $1 LIMIT $2)"
            }
            Backend::Postgres => {
                "DELETE FROM gas_readings_default WHERE (detector_id, ts) IN \
                 (SELECT detector_id, ts FROM gas_readings_default WHERE ts < $1 LIMIT $2)"
            }
        };
        report.readings_deleted = self.delete_batches(readings, raw_cutoff).await?;
        // `detector_id IN (…)` lets both backends walk the primary key (detector, time) instead of
        // scanning the table; detectors are never deleted, so no row is missed.
        let minutes = "DELETE FROM gas_reading_minutes WHERE (detector_id, minute) IN \
             (SELECT detector_id, minute FROM gas_reading_minutes \
             WHERE detector_id IN (SELECT id FROM gas_detectors) AND minute < $1 LIMIT $2)";
        report.minutes_deleted = self.delete_batches(minutes, retention.minute_cutoff(now)).await?;
        Ok(report)
    }

    /// Runs a batch DELETE (`$1` cutoff, `$2` batch size) until a batch removes fewer than a batch.
    async fn delete_batches(&self, sql: &'static str, cutoff: i64) -> Result<i64> {
        let mut total = 0;
        loop {
            let mut tx = self.begin().await?;
            let n = sqlx::query(sql).bind(cutoff).bind(PRUNE_BATCH).execute(&mut *tx.tx).await?.rows_affected();
            tx.commit().await?;
            total += n as i64;
            if (n as i64) < PRUNE_BATCH {
                return Ok(total);
            }
            // Let waiting writers in between batches.
            tokio::task::yield_now().await;
        }
    }

    /// The daily partitions of `gas_readings` (PostgreSQL), by name, with their day.
    pub async fn reading_partitions(&self) -> Result<Vec<(String, Day)>> {
        if self.backend != Backend::Postgres {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT CAST(c.relname AS TEXT) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = CAST('gas_readings' AS regclass) ORDER BY 1",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let name: String = r.try_get(0)?;
            if let Some(day) = Day::from_partition_name(&name) {
                out.push((name, day));
            }
        }
        Ok(out)
    }

    /// Creates the partitions of today and the days ahead, and of every recent day the default
    /// partition holds rows of (readings older than any partition, or stored before the partitions
    /// existed, as right after migration 0015).
    async fn ensure_partitions(&self, now: i64, raw_cutoff: i64, report: &mut RetentionReport) -> Result<()> {
        let existing: std::collections::HashSet<Day> =
            self.reading_partitions().await?.into_iter().map(|(_, d)| d).collect();
        let mut wanted: Vec<Day> = days_ahead(now).collect();
        let span = sqlx::query("SELECT MIN(ts), MAX(ts) FROM gas_readings_default WHERE ts >= $1")
            .bind(raw_cutoff)
            .fetch_one(self.pool())
            .await?;
        if let (Some(lo), Some(hi)) = (span.try_get::<Option<i64>, _>(0)?, span.try_get::<Option<i64>, _>(1)?) {
            let (first, last) = (Day::of(lo), Day::of(hi));
            let mut d = first;
            while d <= last && d < first.plus(MAX_DAYS_MOVED) {
                wanted.push(d);
                d = d.plus(1);
            }
        }
        wanted.sort();
        wanted.dedup();
        for day in wanted.into_iter().filter(|d| !existing.contains(d)) {
            if let Some(moved) = self.create_partition(day).await? {
                report.rows_moved += moved;
                report.partitions_created.push(day.partition_name());
            }
        }
        Ok(())
    }

    /// Creates one day's partition, moving the default partition's rows of that day into it. The
    /// new table is filled and then attached, which needs only a SHARE UPDATE EXCLUSIVE lock on the
    /// parent, so the engine's inserts are never blocked by it nor deadlock with it; the default
    /// partition is locked first so that no row of the day slips in between the move and the attach.
    /// Returns the rows moved, or `None` when another instance created it first.
    async fn create_partition(&self, day: Day) -> Result<Option<i64>> {
        let name = day.partition_name();
        let (lo, hi) = (day.start(), day.end());
        let mut tx = self.begin().await?;
        partition_lock(&mut tx).await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_class WHERE oid = to_regclass($1)")
            .bind(name.clone())
            .fetch_one(&mut *tx.tx)
            .await?;
        if exists > 0 {
            return Ok(None);
        }
        sqlx::query("LOCK TABLE gas_readings_default IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx.tx).await?;
        // The name is digits after a fixed prefix and the bounds are integers (see `Day`): nothing
        // from outside reaches this DDL. The CHECK lets the attach skip scanning the new table.
        let create = format!(
            "CREATE TABLE {name} (detector_id BIGINT NOT NULL, ts BIGINT NOT NULL, value_milli BIGINT NOT NULL, \
             PRIMARY KEY (detector_id, ts), CHECK (ts >= {lo} AND ts < {hi}))"
        );
        sqlx::query(&create).execute(&mut *tx.tx).await?;
        let moved = sqlx::query(&format!(
            "WITH moved AS (DELETE FROM gas_readings_default WHERE ts >= {lo} AND ts < {hi} \
             RETURNING detector_id, ts, value_milli) INSERT INTO {name} SELECT detector_id, ts, value_milli FROM moved"
        ))
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        let attach = format!("ALTER TABLE gas_readings ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})");
        sqlx::query(&attach).execute(&mut *tx.tx).await?;
        tx.commit().await?;
        tracing::info!(partition = %name, moved, "gas readings partition created");
        Ok(Some(moved as i64))
    }

    /// Drops one daily partition; `false` when it was gone already.
    async fn drop_partition(&self, name: &str) -> Result<bool> {
        let Some(day) = Day::from_partition_name(name) else { return Ok(false) };
        let mut tx = self.begin().await?;
        partition_lock(&mut tx).await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_class WHERE oid = to_regclass($1)")
            .bind(name.to_owned())
            .fetch_one(&mut *tx.tx)
            .await?;
        if exists == 0 {
            return Ok(false);
        }
        // Rebuilt from the parsed day, so only a name of our own scheme reaches the DDL.
        sqlx::query(&format!("DROP TABLE {}", day.partition_name())).execute(&mut *tx.tx).await?;
        tx.commit().await?;
        tracing::info!(partition = %name, "old gas readings partition dropped");
        Ok(true)
    }
}

/// Takes the partition lock for the transaction, and bounds how long its DDL waits for other locks:
/// a busy table makes this run give up (the next run retries) rather than stall the engine's writes
/// queued behind it.
async fn partition_lock(tx: &mut Tx<'_>) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PARTITION_LOCK).execute(&mut *tx.tx).await?;
    sqlx::query("SET LOCAL lock_timeout = '10s'").execute(&mut *tx.tx).await?;
    Ok(())
}
