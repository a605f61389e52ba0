//! API keys for machine clients. A key acts as the user who created it, with that user's role and
//! scope; only its SM3 hash is stored and the key itself is shown once.

use crate::Store;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Store {
    pub async fn create_api_key(&self, actor: &Actor, user_id: i64, name: &str, key: &str, now: i64) -> Result<i64> {
        let prefix: String = key.chars().take(12).collect();
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name.to_string())
        .bind(prefix.clone())
        .bind(self.token_hash(key))
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("create_api_key", "api_key", id)
            .detail(serde_json::json!({"after": {"name": name, "prefix": prefix}}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_api_keys(&self, user_id: i64) -> Result<Vec<ApiKeyRow>> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiKeyRow {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("name")?,
                    prefix: r.try_get("prefix")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's own keys. Another user's key id is reported as not found.
    pub async fn revoke_api_key(&self, actor: &Actor, user_id: i64, key_id: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let n =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(key_id)
                .bind(user_id)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        self.audit(&mut tx, actor, AuditEntry::ok("revoke_api_key", "api_key", key_id), now).await?;
        tx.commit().await
    }

    /// The user id of a live key, marking it used (at most once a minute, to spare the writer).
    pub async fn api_key_user(&self, key: &str, now: i64) -> Result<Option<i64>> {
        let hash = self.token_hash(key);
        let row = sqlx::query("SELECT user_id, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(hash.clone())
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let uid: i64 = row.try_get(0)?;
        let last: Option<i64> = row.try_get(1)?;
        if last.is_none_or(|t| now - t >= 60_000) {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2")
                .bind(now)
                .bind(hash)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(uid))
    }
}
