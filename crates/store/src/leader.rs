//! Leadership among instances sharing one PostgreSQL database: the holder of a session-level
//! advisory lock runs the singletons (the gas alarm engine, the broker consumer, the scheduled
//! jobs). The lock lives as long as its connection: when the process dies, PostgreSQL drops the
//! connection and the lock with it, and the next instance to try takes over. With SQLite there is
//! one instance, which always leads.

use crate::Store;
use crate::error::Result;
use crate::url::Backend;
use sqlx::{Acquire, AnyConnection, Connection};

/// The advisory-lock key of the gas engine's leadership ("dxe" + 6).
pub const LEADER_LOCK: i64 = 7_233_006;

/// Held leadership. Dropping it closes its connection, which releases the lock.
#[derive(Debug)]
pub struct LeaderLock {
    conn: Option<AnyConnection>,
}

impl LeaderLock {
    /// Whether the lock is still held: its connection answers.
    pub async fn check(&mut self) -> bool {
        match self.conn.as_mut() {
            None => true,
            Some(c) => c.ping().await.is_ok(),
        }
    }
}

impl Store {
    /// Takes the leadership if no other instance holds it; `None` when another does.
    pub async fn try_lead(&self) -> Result<Option<LeaderLock>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(LeaderLock { conn: None }));
        }
        // A connection of its own, outside the pool: returned to the pool it would carry the lock
        // into other work, and a pool may close it at will.
        let mut conn = self.pool().acquire().await?.detach();
        let got: i64 = sqlx::query_scalar("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END")
            .bind(LEADER_LOCK)
            .fetch_one(conn.acquire().await?)
            .await?;
        if got == 1 { Ok(Some(LeaderLock { conn: Some(conn) })) } else { Ok(None) }
    }
}
