//! Sign-in of gas devices to the MQTT listener: a detector by its own secret (alone, as
//! ThingsBoard's access token, or with its tag as user name), or a gateway by an API key of an
//! account that may feed readings. Secrets are compared as keyed hashes, never stored or logged.

use crate::Store;
use crate::error::Result;
use dianxiaoer_core::access::{Permission, permits};
use sqlx::Row;

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceLogin {
    /// One detector (its tag): feeds only itself.
    Detector { detector_id: i64, tag: String },
    /// A gateway account: feeds detectors of these enterprises (`None`: all).
    Gateway { username: String, enterprises: Option<Vec<i64>> },
}

impl Store {
    /// Checks device credentials. `user` is the MQTT user name, `secret` the password (may be
    /// empty). Accepted: (tag, the detector's secret); (the detector's secret, empty), as a
    /// ThingsBoard device sends its access token; (anything, an API key) or (an API key, empty)
    /// for a gateway whose account holds `IngestReadings`. Disabled detectors and accounts are refused.
    pub async fn device_login(&self, user: &str, secret: &str, now: i64) -> Result<Option<DeviceLogin>> {
        let (key, tag) = if secret.is_empty() { (user, None) } else { (secret, Some(user)) };
        if key.is_empty() {
            return Ok(None);
        }
        if key.starts_with("dxe_") {
            return self.gateway_login(key, now).await;
        }
        let row = sqlx::query("SELECT id, tag FROM gas_detectors WHERE device_secret_hash = $1 AND status = 'active'")
            .bind(self.token_hash(key))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let detector_id: i64 = row.try_get(0)?;
        let found: String = row.try_get(1)?;
        if tag.is_some_and(|t| t != found) {
            return Ok(None);
        }
        Ok(Some(DeviceLogin::Detector { detector_id, tag: found }))
    }

    async fn gateway_login(&self, key: &str, now: i64) -> Result<Option<DeviceLogin>> {
        let Some(uid) = self.api_key_user(key, now).await? else { return Ok(None) };
        let user = self.user_by_id(uid).await?;
        if user.disabled || !permits(user.role, Permission::IngestReadings) {
            return Ok(None);
        }
        let enterprises = self.ingest_enterprises(&user.scope()).await?;
        Ok(Some(DeviceLogin::Gateway { username: user.username, enterprises }))
    }
}

impl Store {
    /// Raw readings stored, in all (operations checks and the failover test).
    pub async fn count_gas_readings(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM gas_readings").fetch_one(self.pool()).await?)
    }

    /// Gas-concentration alarms ever raised, per detector tag (operations checks and the failover test).
    pub async fn gas_alarm_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT d.tag, COUNT(*) FROM gas_alarms a JOIN gas_detectors d ON d.id = a.detector_id \
             WHERE a.kind = 'gas' GROUP BY d.tag ORDER BY d.tag",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}
