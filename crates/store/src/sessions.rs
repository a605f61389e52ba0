//! Server-side sessions. The cookie carries a 256-bit random token; the table keeps only its SM3 hash,
//! so a copy of the database cannot be replayed as a live session (security.md 8.1.4.1).

use crate::audit::{Actor, AuditEntry};
use crate::error::Result;
use crate::{Store, Tx};
use serde::Serialize;
use sm3::{Digest, Sm3};

#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub user_id: i64,
    #[serde(skip)]
    pub csrf_token: String,
    pub mfa_done: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl Store {
    /// The stored form of a session token or API key: HMAC-SM3 under the token key, or SM3.
    pub fn token_hash(&self, token: &str) -> String {
        match self.token_key.as_deref() {
            Some(k) => hex::encode(dianxiaoer_core::audit_chain::link(Some(k), &[0; 32], token.as_bytes())),
            None => hex::encode(Sm3::digest(token.as_bytes())),
        }
    }
}

/// `bytes` random bytes from the operating system, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    use rand_core::{OsRng, RngCore};
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        token: &str,
        user_id: i64,
        csrf: &str,
        mfa_done: bool,
        ip: &str,
        user_agent: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, mfa_done, created_at, last_seen_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
        )
        .bind(self.token_hash(token))
        .bind(user_id)
        .bind(csrf.to_string())
        .bind(i64::from(mfa_done))
        .bind(now)
        .bind(ip.to_string())
        .bind(user_agent.to_string())
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Marks activity. Written at most once a minute per session to spare the database.
    pub async fn touch_session(&self, token: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $3")
            .bind(now)
            .bind(self.token_hash(token))
            .bind(now - 60_000)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn complete_mfa(&self, token: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET mfa_done = 1 WHERE token_hash = $1")
            .bind(self.token_hash(token))
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(self.token_hash(token))
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// Ends every session of a user (admin action or `dianxiaoer user end-sessions`); audited.
    pub async fn end_sessions(&self, actor: &Actor, user_id: i64, now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = end_in(&mut tx, user_id).await?;
        let entry = AuditEntry::ok("end_sessions", "user", user_id).detail(serde_json::json!({"ended": n}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn count_sessions(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(self.pool())
            .await?)
    }

    /// Removes sessions idle longer than `idle_ms` or older than `absolute_ms`.
    pub async fn prune_sessions(&self, now: i64, idle_ms: i64, absolute_ms: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(now - idle_ms)
            .bind(now - absolute_ms)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

pub(crate) async fn end_in(tx: &mut Tx<'_>, user_id: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx.tx).await?.rows_affected())
}

/// A random session secret for demo mode, which needs no configuration.
pub fn random_demo_secret() -> String {
    random_token(32)
}
