//! Settings kept in the database: the security policy (security.md, 等保 defaults).

use crate::Store;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use dianxiaoer_core::password::PasswordPolicy;

const POLICY_KEY: &str = "security_policy";

impl Store {
    /// The policy in force: the stored one, or the defaults.
    pub async fn policy(&self) -> Result<PasswordPolicy> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(POLICY_KEY)
            .fetch_optional(self.pool())
            .await?;
        Ok(v.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
    }

    pub async fn set_policy(&self, actor: &Actor, p: &PasswordPolicy, now: i64) -> Result<()> {
        p.validate().map_err(|errs| Error::Invalid(errs.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("；")))?;
        let before = self.policy().await?;
        let value = serde_json::to_string(p).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(POLICY_KEY)
        .bind(value)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("set_security_policy", "settings", POLICY_KEY)
            .detail(serde_json::json!({"before": before, "after": p}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}
