//! Importing the registry: rows arrive in chunks while the sheet is still being read and checked, are
//! written into one open transaction, and are committed only when the whole sheet passed; dropping
//! the import rolls everything back (DESIGN.md, principle 8). Each enterprise an import creates or
//! updates is linked to it, so the enterprise's history shows the import.

use crate::audit::{Actor, AuditEntry, AuditFilter};
use crate::enterprise_write::{INSERT_IMPORTED, UPSERT, bump, chunk, push_values_marked};
use crate::enterprises::EnterpriseInput;
use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::{Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use sqlx::Row;
use std::collections::HashSet;

/// Rows per upsert statement: positional parameters on SQLite (see `Sql::for_backend`) bind in
/// linear time, so larger statements pay off there too; PostgreSQL stays below its 65,535 parameters.
pub(crate) fn import_chunk(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 128,
        crate::Backend::Postgres => chunk(backend),
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
}

/// An import in progress: an open write transaction. Nothing is visible to others until
/// [`EnterpriseImport::finish`]; dropping it rolls back.
pub struct EnterpriseImport<'a> {
    store: &'a Store,
    tx: Tx<'a>,
    id: i64,
    actor: Actor,
    source: String,
    now: i64,
    seen: HashSet<String>,
    rows: u64,
}

impl Store {
    /// Starts an import. Whole zone or department scope only: an import may create enterprises
    /// anywhere in the zone.
    pub async fn begin_enterprise_import(
        &self,
        actor: &Actor,
        scope_: &Scope,
        source: &str,
        now: i64,
    ) -> Result<EnterpriseImport<'_>> {
        if !matches!(scope_, Scope::Zone | Scope::Department(_)) {
            return Err(Error::Invalid("批量导入需全区或部门数据范围".into()));
        }
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO enterprise_imports (at, user_id, username, source) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(now)
        .bind(actor.user_id)
        .bind(actor.username.clone())
        .bind(source.to_string())
        .fetch_one(&mut *tx.tx)
        .await?;
        Ok(EnterpriseImport {
            store: self,
            tx,
            id,
            actor: actor.clone(),
            source: source.to_string(),
            now,
            seen: HashSet::new(),
            rows: 0,
        })
    }

    /// Imports rows in one go (the JSON API and tests); see [`EnterpriseImport`].
    pub async fn import_enterprises(
        &self,
        actor: &Actor,
        scope_: &Scope,
        source: &str,
        rows: &[EnterpriseInput],
        now: i64,
    ) -> Result<ImportCounts> {
        let mut import = self.begin_enterprise_import(actor, scope_, source, now).await?;
        import.write(rows).await?;
        import.finish().await
    }
}

impl EnterpriseImport<'_> {
    /// Writes a chunk, updating enterprises whose credit code is already registered instead of
    /// duplicating them. A credit code seen earlier in the same import is refused.
    pub async fn write(&mut self, rows: &[EnterpriseInput]) -> Result<()> {
        for e in rows {
            if !self.seen.insert(e.credit_code.as_str().to_string()) {
                return Err(Error::Invalid(format!("统一社会信用代码 {} 在表中重复", e.credit_code)));
            }
        }
        for part in rows.chunks(import_chunk(self.tx.backend)) {
            let mut s = Sql::new(INSERT_IMPORTED);
            for (i, e) in part.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                push_values_marked(&mut s, e, self.now, Some(self.id));
            }
            s.push(UPSERT);
            s.for_backend(self.tx.backend).query().execute(&mut *self.tx.tx).await?;
        }
        self.rows += rows.len() as u64;
        Ok(())
    }

    /// Links every written enterprise to this import, audits it and commits.
    pub async fn finish(mut self) -> Result<ImportCounts> {
        if self.rows == 0 {
            return Err(Error::Invalid("表中没有数据行".into()));
        }
        let id = self.id;
        let tx = &mut self.tx;
        sqlx::query(
            "INSERT INTO enterprise_import_items (import_id, enterprise_id, created) \
             SELECT $1, id, CASE WHEN origin_import_id = $1 THEN 1 ELSE 0 END FROM enterprises WHERE import_id = $1",
        )
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        let inserted: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM enterprise_import_items WHERE import_id = $1 AND created = 1")
                .bind(id)
                .fetch_one(&mut *tx.tx)
                .await?;
        let counts = ImportCounts { inserted: inserted as u64, updated: self.rows - inserted as u64 };
        sqlx::query("UPDATE enterprise_imports SET inserted = $1, updated = $2 WHERE id = $3")
            .bind(counts.inserted as i64)
            .bind(counts.updated as i64)
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let entry = AuditEntry::ok("import", "enterprise", format!("import:{id}")).detail(serde_json::json!({
            "import_id": id, "source": self.source, "inserted": counts.inserted, "updated": counts.updated,
        }));
        bump(tx).await?;
        self.store.audit(tx, &self.actor, entry, self.now).await?;
        self.tx.commit().await?;
        Ok(counts)
    }
}

/// One line of an enterprise's history: an audited change, or an import that touched it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub username: String,
    /// The audit action (`create_enterprise`, `update_enterprise`, …) or `import`.
    pub action: String,
    /// The audit record's JSON detail; empty for imports.
    pub detail: String,
    /// For imports: the import's id and source, and whether it created the enterprise.
    pub import: Option<(i64, String, bool)>,
}

impl Store {
    /// The newest `limit` changes of an enterprise within scope, audited edits and imports merged.
    pub async fn enterprise_history(&self, scope_: &Scope, id: i64, limit: i64) -> Result<Vec<HistoryEntry>> {
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE e.id = ");
        check.i64(id);
        scope::enterprises(&mut check, scope_);
        if check.count(self.pool()).await? == 0 {
            return Err(Error::NotFound);
        }
        let filter = AuditFilter {
            object_type: Some("enterprise".into()),
            object_id: Some(id.to_string()),
            ..Default::default()
        };
        let mut out: Vec<HistoryEntry> = self
            .list_audit(&filter, 1, limit)
            .await?
            .items
            .into_iter()
            .map(|a| HistoryEntry { at: a.at, username: a.username, action: a.action, detail: a.detail, import: None })
            .collect();
        let rows = sqlx::query(
            "SELECT i.id, i.at, i.username, i.source, x.created FROM enterprise_import_items x \
             JOIN enterprise_imports i ON i.id = x.import_id WHERE x.enterprise_id = $1 ORDER BY i.id DESC LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        for r in rows {
            out.push(HistoryEntry {
                at: r.try_get(1)?,
                username: r.try_get(2)?,
                action: "import".into(),
                detail: String::new(),
                import: Some((r.try_get(0)?, r.try_get(3)?, r.try_get::<i64, _>(4)? == 1)),
            });
        }
        out.sort_by_key(|h| std::cmp::Reverse(h.at));
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(out)
    }
}
