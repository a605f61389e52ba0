//! The append-only, hash-chained audit log (security.md "Audit"; GB/T 22239-2019 8.1.4.3).
//! Records are written in the same transaction as the change they describe.

use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::url::Backend;
use crate::{Page, Store, Tx};
use dianxiaoer_core::audit_chain::{GENESIS, canonical, link};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Who did it.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub ip: String,
}

impl Actor {
    /// The command line, for `dianxiaoer user …` run by an operator on the server.
    pub fn cli() -> Actor {
        Actor { user_id: None, username: "命令行".into(), role: "cli".into(), ip: "local".into() }
    }
}

/// What was done. `detail` holds a concise before/after; never secrets.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub result: &'static str,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn ok(action: &'static str, object_type: &'static str, object_id: impl ToString) -> AuditEntry {
        AuditEntry {
            action,
            object_type,
            object_id: object_id.to_string(),
            result: "成功",
            detail: serde_json::Value::Null,
        }
    }

    pub fn detail(mut self, detail: serde_json::Value) -> AuditEntry {
        self.detail = detail;
        self
    }

    pub fn failed(mut self) -> AuditEntry {
        self.result = "失败";
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub result: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub username: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// The outcome of `audit verify`.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub checked: i64,
    /// The first record found edited, or after which records were deleted or reordered.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

fn fields(r: &AuditRow) -> Vec<u8> {
    let seq = r.seq.to_string();
    let at = r.at.to_string();
    let uid = r.user_id.map(|u| u.to_string()).unwrap_or_default();
    canonical(&[
        &seq,
        &at,
        &uid,
        &r.username,
        &r.role,
        &r.ip,
        &r.action,
        &r.object_type,
        &r.object_id,
        &r.result,
        &r.detail,
    ])
}

fn row(r: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        role: r.try_get("role")?,
        ip: r.try_get("ip")?,
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        result: r.try_get("result")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

const COLUMNS: &str = "SELECT seq, at, user_id, username, role, ip, action, object_type, object_id, result, detail, prev_hash, hash FROM audit_log";

impl Store {
    /// Appends one record inside `tx`. The record's sequence number is part of its hash, so it is
    /// allocated first (the insert) and the hash filled in by an update in the same transaction.
    pub async fn audit(&self, tx: &mut Tx<'_>, actor: &Actor, entry: AuditEntry, at: i64) -> Result<i64> {
        if tx.backend == Backend::Postgres {
            // Serialises appenders across instances; released at commit.
            sqlx::query("SELECT pg_advisory_xact_lock(7233002)").execute(&mut *tx.tx).await?;
        }
        let prev: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx.tx)
            .await?;
        let prev = match prev {
            Some(p) => p,
            None => self.anchor_hash(tx).await?,
        };
        let detail = if entry.detail.is_null() { String::new() } else { entry.detail.to_string() };
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (at, user_id, username, role, ip, action, object_type, object_id, result, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '') RETURNING seq",
        )
        .bind(at)
        .bind(actor.user_id)
        .bind(actor.username.clone())
        .bind(actor.role.clone())
        .bind(actor.ip.clone())
        .bind(entry.action)
        .bind(entry.object_type)
        .bind(entry.object_id.clone())
        .bind(entry.result)
        .bind(detail.clone())
        .bind(prev.clone())
        .fetch_one(&mut *tx.tx)
        .await?;
        let record = AuditRow {
            seq,
            at,
            user_id: actor.user_id,
            username: actor.username.clone(),
            role: actor.role.clone(),
            ip: actor.ip.clone(),
            action: entry.action.into(),
            object_type: entry.object_type.into(),
            object_id: entry.object_id,
            result: entry.result.into(),
            detail,
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        let hash = hex::encode(link(self.key(), &decode(&prev), &fields(&record)));
        sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = $2").bind(hash).bind(seq).execute(&mut *tx.tx).await?;
        Ok(seq)
    }

    /// Writes one record in a transaction of its own (events with no other change, e.g. an export).
    pub async fn audit_alone(&self, actor: &Actor, entry: AuditEntry, at: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = self.audit(&mut tx, actor, entry, at).await?;
        tx.commit().await?;
        Ok(seq)
    }

    fn key(&self) -> Option<&[u8]> {
        self.audit_key.as_deref().map(|k| k.as_slice())
    }

    async fn anchor_hash(&self, tx: &mut Tx<'_>) -> Result<String> {
        let a: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit_anchor WHERE id = 1").fetch_optional(&mut *tx.tx).await?;
        Ok(a.unwrap_or_else(|| hex::encode(GENESIS)))
    }

    pub async fn list_audit(&self, f: &AuditFilter, page: i64, per_page: i64) -> Result<Page<AuditRow>> {
        self.list_audit_upto(f, page, per_page, crate::sql::PAGE_MAX).await
    }

    /// Every matching row up to `max`, newest first, for an export.
    pub async fn export_audit(&self, f: &AuditFilter, max: i64) -> Result<Vec<AuditRow>> {
        Ok(self.list_audit_upto(f, 1, max, max).await?.items)
    }

    async fn list_audit_upto(&self, f: &AuditFilter, page: i64, per_page: i64, max: i64) -> Result<Page<AuditRow>> {
        let (page, per_page, offset) = crate::sql::paging_upto(page, per_page, max);
        let mut count = Sql::new("SELECT COUNT(*) FROM audit_log WHERE 1 = 1");
        let mut list = Sql::new(COLUMNS);
        list.push(" WHERE 1 = 1");
        for s in [&mut count, &mut list] {
            if let Some(u) = &f.username {
                s.push(" AND username LIKE ").like(u);
            }
            if let Some(a) = &f.action {
                s.push(" AND action = ").text(a.clone());
            }
            if let Some(t) = &f.object_type {
                s.push(" AND object_type = ").text(t.clone());
            }
            if let Some(o) = &f.object_id {
                s.push(" AND object_id = ").text(o.clone());
            }
            if let Some(from) = f.from_ms {
                s.push(" AND at >= ").i64(from);
            }
            if let Some(to) = f.to_ms {
                s.push(" AND at < ").i64(to);
            }
        }
        list.push(" ORDER BY seq DESC LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let total = count.count(self.pool()).await?;
        let items = list.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Recomputes the whole chain from its anchor and names the first record that does not fit.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        let anchor: Option<(i64, String)> = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1")
            .fetch_optional(self.pool())
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?;
        let (mut last_seq, mut prev) = anchor.unwrap_or((0, hex::encode(GENESIS)));
        let mut checked = 0;
        let mut after = last_seq;
        let text = format!("{COLUMNS} WHERE seq > $1 ORDER BY seq LIMIT 5000");
        loop {
            let batch = sqlx::query(&text).bind(after).fetch_all(self.pool()).await?;
            if batch.is_empty() {
                break;
            }
            for r in &batch {
                let rec = row(r)?;
                after = rec.seq;
                checked += 1;
                let bad =
                    |problem: String| ChainReport { checked, first_bad_seq: Some(rec.seq), problem: Some(problem) };
                if rec.prev_hash != prev {
                    return Ok(bad(format!(
                        "第 {} 条记录的前序哈希与第 {} 条不符：其间的记录被删除、插入或调换",
                        rec.seq, last_seq
                    )));
                }
                if rec.seq != last_seq + 1 {
                    return Ok(bad(format!("第 {} 条之前缺少记录（上一条为第 {} 条）", rec.seq, last_seq)));
                }
                let expect = hex::encode(link(self.key(), &decode(&prev), &fields(&rec)));
                if rec.hash != expect {
                    return Ok(bad(format!("第 {} 条记录的内容被修改", rec.seq)));
                }
                prev = rec.hash;
                last_seq = rec.seq;
            }
        }
        Ok(ChainReport { checked, first_bad_seq: None, problem: None })
    }

    /// Removes records older than `before_ms`, keeping at least 180 days (网络安全法 §21) whatever
    /// is asked, and moves the chain's anchor to the last removed record so verification still holds.
    pub async fn prune_audit(&self, actor: &Actor, before_ms: i64, now: i64) -> Result<i64> {
        const MIN_KEEP_MS: i64 = 180 * 24 * 3600 * 1000;
        if before_ms > now - MIN_KEEP_MS {
            return Err(Error::Invalid("审计记录至少保留 180 天".into()));
        }
        let mut tx = self.begin().await?;
        let last: Option<(i64, String)> =
            sqlx::query("SELECT seq, hash FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1")
                .bind(before_ms)
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?;
        let Some((seq, hash)) = last else {
            return Ok(0);
        };
        let removed = sqlx::query("DELETE FROM audit_log WHERE seq <= $1").bind(seq).execute(&mut *tx.tx).await?;
        sqlx::query(
            "INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_at = excluded.pruned_at",
        )
        .bind(seq)
        .bind(hash)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let n = removed.rows_affected() as i64;
        let entry = AuditEntry::ok("prune_audit", "audit_log", seq).detail(serde_json::json!({"removed": n}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}

fn decode(h: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(v) = hex::decode(h)
        && v.len() == 32
    {
        out.copy_from_slice(&v);
    }
    out
}
