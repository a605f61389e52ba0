//! The approval seal's keys (审批专用章), managed by the security admin: generation and rotation, the
//! validity period, and the active key loaded to sign (core: `seal.rs`, `approval/certificate.rs`).
//!
//! - A new key pair is generated here from the operating system's random source; its private key is
//!   written only wrapped under the wrapping key derived from the configured secret (`Keys::seal`)
//!   and is opened only to sign, inside the transaction that records the certificate.
//! - A rotation retires the active key (kept to verify what it sealed) and activates the new one in
//!   one transaction; the unique index on `active` keeps one active key even when two admins rotate
//!   at once.
//! - The validity period may not be narrowed so as to exclude certificates the key has sealed.
//! - Audit records name the key by its fingerprint; no key material is ever in them, in a row
//!   returned from here, or in an error.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::{Store, Tx};
use dianxiaoer_core::approval::Date;
use dianxiaoer_core::approval::certificate::Validity;
use dianxiaoer_core::seal::SealSecret;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

const NO_SECRET: &str =
    "未配置印章密钥保护口令：请设置 DXE_SEAL_KEY（或 DXE_SESSION_SECRET）后重新启动，再生成审批专用章密钥";
const NO_KEY: &str = "尚未生成审批专用章密钥，不能签发批准文书；请安全管理员在“审批专用章”页生成密钥";

/// A seal key as shown to the security admin and the API: public parts only.
#[derive(Debug, Clone, Serialize)]
pub struct SealKeyRow {
    pub id: i64,
    /// Hex SM3 of the public key.
    pub fingerprint: String,
    /// Uncompressed SEC1 public key, hex.
    pub public_key: String,
    pub valid_from: String,
    pub valid_to: String,
    /// The key that signs now.
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
    /// When a rotation replaced it.
    pub retired_at: Option<i64>,
    /// Certificates it has sealed.
    pub certificates: i64,
}

const SELECT_KEYS: &str = "SELECT k.id, k.fingerprint, k.public_key, k.valid_from, k.valid_to, k.active, k.created_at, \
    k.created_by, k.retired_at, (SELECT COUNT(*) FROM approval_certificates c WHERE c.seal_key_id = k.id) AS certificates \
    FROM seal_keys k";

fn key_row(r: &AnyRow) -> Result<SealKeyRow> {
    Ok(SealKeyRow {
        id: r.try_get("id")?,
        fingerprint: r.try_get("fingerprint")?,
        public_key: r.try_get("public_key")?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        active: r.try_get::<i64, _>("active")? == 1,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        retired_at: r.try_get("retired_at")?,
        certificates: r.try_get("certificates")?,
    })
}

pub(crate) fn validity_of(from: &str, to: &str) -> Result<Validity> {
    let bad = |_| crate::approval::corrupt(format!("seal key validity {from}..{to}"));
    Validity::new(Date::parse(from).map_err(bad)?, Date::parse(to).map_err(bad)?).map_err(crate::approval::corrupt)
}

/// The active key, opened to sign.
pub(crate) struct Signer {
    pub id: i64,
    pub fingerprint: String,
    pub validity: Validity,
    pub secret: SealSecret,
}

impl Store {
    /// Every seal key, the active one first, then newest first.
    pub async fn seal_keys(&self) -> Result<Vec<SealKeyRow>> {
        let sql = format!("{SELECT_KEYS} ORDER BY k.active DESC, k.id DESC");
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(key_row).collect()
    }

    async fn seal_key_row(&self, id: i64) -> Result<SealKeyRow> {
        let sql = format!("{SELECT_KEYS} WHERE k.id = $1");
        key_row(&sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?.ok_or(Error::NotFound)?)
    }

    /// Generates a key pair and makes it the active key with `validity`, retiring the active one if
    /// any (a rotation). Refused without a configured wrapping secret.
    pub async fn rotate_seal_key(&self, actor: &Actor, validity: Validity, now: i64) -> Result<SealKeyRow> {
        let kek = self.seal_kek().ok_or_else(|| Error::Refused(NO_SECRET.into()))?;
        let (fingerprint, public, wrapped) = {
            let secret = SealSecret::generate(&mut OsRng);
            let mut nonce = [0u8; 12];
            OsRng.fill_bytes(&mut nonce);
            (secret.fingerprint(), hex::encode(secret.public_key()), secret.wrap(kek, nonce))
        };
        let mut tx = self.begin().await?;
        let previous: Option<String> = sqlx::query_scalar("SELECT fingerprint FROM seal_keys WHERE active = 1")
            .fetch_optional(&mut *tx.tx)
            .await?;
        sqlx::query("UPDATE seal_keys SET active = 0, retired_at = $1 WHERE active = 1")
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO seal_keys (fingerprint, public_key, private_key_wrapped, valid_from, valid_to, active, \
             created_at, created_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7) RETURNING id",
        )
        .bind(fingerprint.clone())
        .bind(public)
        .bind(wrapped)
        .bind(validity.from.to_string())
        .bind(validity.to.to_string())
        .bind(now)
        .bind(actor.username.clone())
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| Error::from(e).unique_as("另一位管理员刚刚生成了新密钥，请刷新后查看"))?;
        let action = if previous.is_some() { "seal_key_rotate" } else { "seal_key_generate" };
        let entry = AuditEntry::ok(action, "seal_key", id).detail(json!({
            "fingerprint": fingerprint, "retired": previous,
            "valid_from": validity.from, "valid_to": validity.to,
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        self.seal_key_row(id).await
    }

    /// Sets the validity period of the active key. Refused when no key is active, or when the new
    /// period would leave out certificates the key has already sealed.
    pub async fn set_seal_validity(&self, actor: &Actor, validity: Validity, now: i64) -> Result<SealKeyRow> {
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT id, fingerprint, valid_from, valid_to FROM seal_keys WHERE active = 1")
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| Error::Refused("尚未生成审批专用章密钥，请先生成".into()))?;
        let id: i64 = row.try_get("id")?;
        let outside: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM approval_certificates WHERE seal_key_id = $1 AND (sealed_at < $2 OR sealed_at >= $3)",
        )
        .bind(id)
        .bind(validity.from.start_ms())
        .bind(validity.to.next().start_ms())
        .fetch_one(&mut *tx.tx)
        .await?;
        if outside > 0 {
            return Err(Error::Refused(format!(
                "该密钥已签发的 {outside} 份批准文书不在新的有效期内，不能这样缩短有效期（否则它们将无法通过核验）"
            )));
        }
        sqlx::query("UPDATE seal_keys SET valid_from = $1, valid_to = $2 WHERE id = $3")
            .bind(validity.from.to_string())
            .bind(validity.to.to_string())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let before: (String, String) = (row.try_get("valid_from")?, row.try_get("valid_to")?);
        let entry = AuditEntry::ok("seal_key_validity", "seal_key", id).detail(json!({
            "fingerprint": row.try_get::<String, _>("fingerprint")?,
            "before": {"valid_from": before.0, "valid_to": before.1},
            "after": {"valid_from": validity.from, "valid_to": validity.to},
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        self.seal_key_row(id).await
    }

    /// The active key opened to sign, at `at` when given: refused when there is none, when `at` is
    /// outside its validity, or when the wrapping secret does not open it.
    pub(crate) async fn signer(&self, tx: &mut Tx<'_>, at: Option<i64>) -> Result<Signer> {
        let row = sqlx::query(
            "SELECT id, fingerprint, private_key_wrapped, valid_from, valid_to FROM seal_keys WHERE active = 1",
        )
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or_else(|| Error::Refused(NO_KEY.into()))?;
        let validity = validity_of(&row.try_get::<String, _>("valid_from")?, &row.try_get::<String, _>("valid_to")?)?;
        if let Some(why) = at.and_then(|at| validity.refusal(at)) {
            return Err(Error::Refused(why));
        }
        let kek = self.seal_kek().ok_or_else(|| Error::Refused(NO_SECRET.into()))?;
        let fingerprint: String = row.try_get("fingerprint")?;
        let wrapped: String = row.try_get("private_key_wrapped")?;
        let secret = SealSecret::unwrap(kek, &fingerprint, &wrapped).map_err(|e| Error::Refused(e.to_string()))?;
        Ok(Signer { id: row.try_get("id")?, fingerprint, validity, secret })
    }
}
