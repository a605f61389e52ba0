//! The retention job of the gas readings (issue 6, storage): on its period it creates the coming
//! days' partitions (PostgreSQL) and removes raw readings and one-minute aggregates older than their
//! retention, through [`Store::gas_retention`]. It runs at once when started, so a fresh database gets
//! its partitions before the first readings, and a restarted server catches up on what it missed.

use crate::engine::ClockFn;
use dianxiaoer_core::gas::retention::Retention;
use dianxiaoer_store::Store;
use std::time::Duration;

/// How often the job runs: partitions are made days ahead, so an hour is plenty.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Starts the job on the runtime; it runs until the process ends.
pub fn spawn(store: Store, clock: ClockFn, retention: Retention, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.gas_retention(clock(), &retention).await {
                Ok(r) => {
                    if !r.partitions_created.is_empty()
                        || !r.partitions_dropped.is_empty()
                        || r.readings_deleted > 0
                        || r.minutes_deleted > 0
                    {
                        tracing::info!(
                            created = ?r.partitions_created,
                            dropped = ?r.partitions_dropped,
                            moved = r.rows_moved,
                            readings = r.readings_deleted,
                            minutes = r.minutes_deleted,
                            "gas readings retention"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "gas readings retention failed; retried at the next run"),
            }
        }
    })
}
