//! The retention job of the gas readings (issue 6, storage): on its period it creates the coming
//! days' partitions (PostgreSQL) and removes raw readings and one-minute aggregates older than their
//! retention, through [`Store::gas_retention`]. Only the instance that runs the alarm engine (and so
//! takes the readings) runs it, so that several instances do not race to create and drop the same
//! partitions. It runs at once when this instance starts leading — a fresh database gets its
//! partitions before the first readings, a restarted server or a new leader catches up on what was
//! missed — and then on its period while leading.

use crate::engine::ClockFn;
use dianxiaoer_core::gas::retention::Retention;
use dianxiaoer_store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// How often the job runs: partitions are made days ahead, so an hour is plenty.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Starts the job on the runtime; it runs until the process ends, acting while `leading` says so.
pub fn spawn(
    store: Store,
    clock: ClockFn,
    retention: Retention,
    every: Duration,
    mut leading: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                changed = leading.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // Leading from now: run at once and count the period from here.
                    tick.reset();
                }
            }
            if !*leading.borrow_and_update() {
                continue;
            }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use dianxiaoer_store::{DatabaseUrl, Keys};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Each run reads the clock once: the count says how often the job ran.
    #[tokio::test]
    async fn only_the_leader_runs_it_at_once_when_it_starts_leading() {
        let dir = std::env::temp_dir().join(format!("dxe-retention-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}/gas.db", dir.display())).unwrap();
        let store = Store::open(&url, Keys::default()).await.unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let clock: ClockFn = Arc::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            1_800_000_000_000
        });
        let (tx, rx) = watch::channel(false);
        let job = spawn(store, clock, Retention::new(30, 365).unwrap(), Duration::from_secs(3600), rx);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "a standby does not run it");
        tx.send(true).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "run at once on taking the lead, then hourly");
        tx.send(false).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        drop(tx);
        tokio::time::timeout(Duration::from_secs(2), job).await.unwrap().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
