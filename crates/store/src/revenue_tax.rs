//! The tax ledger (税收台账): sheets from the tax bureau, parsed by the core into [`TaxRow`]s, imported
//! in one transaction — every row or none (DESIGN.md principle 8). The same file twice changes nothing;
//! a payment already imported from an overlapping export, or a taxpayer not in the registry, refuses
//! the sheet with the rows named.

use crate::audit::{Actor, AuditEntry};
use crate::enterprise_import::import_chunk;
use crate::error::{Error, Result};
use crate::sql::{Arg, Sql, paging};
use crate::{Backend, Page, Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::tax::{TaxRow, VoucherKind};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::{BTreeSet, HashMap};

/// Lower-case hex SHA-256 of `bytes` (an uploaded file, a row's duplicate key).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One import of a tax sheet.
#[derive(Debug, Clone, Serialize)]
pub struct TaxImportRow {
    pub id: i64,
    pub at: i64,
    pub username: String,
    pub source: String,
    pub file_sha256: String,
    pub rows: i64,
    pub total_fen: i64,
}

/// Why a row of a sheet cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RowProblemKind {
    /// The credit code is not in the enterprise registry.
    UnknownEnterprise,
    /// The same payment was imported before, from another file.
    AlreadyImported,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowProblem {
    pub row: usize,
    pub credit_code: String,
    pub kind: RowProblemKind,
    pub message: String,
}

/// What an import came to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaxImportOutcome {
    Imported {
        import_id: i64,
        rows: i64,
        total_fen: i64,
        periods: Vec<String>,
        /// Months of the sheet whose settlement is already confirmed: their rows are corrections,
        /// settled as adjustments of the next open month (the confirmed settlement never changes).
        confirmed: Vec<String>,
    },
    /// This very file was imported before: nothing changed.
    AlreadyImported { import: TaxImportRow },
    /// Nothing was written.
    Refused { problems: Vec<RowProblem> },
}

/// One row of the ledger as listed.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub id: i64,
    pub import_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    /// "2022-01", the settlement month.
    pub period: String,
    pub tax_type: String,
    pub tax_item: Option<String>,
    /// Signed: refunds are negative.
    pub amount_fen: i64,
    /// County-retained share in hundredths of a percent, from the sheet's 预算分配比例.
    pub retained_basis_points: Option<i64>,
    /// `receipt` or `refund`.
    pub voucher_kind: String,
    pub row_no: i64,
}

#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    pub period: Option<Period>,
    pub enterprise_id: Option<i64>,
    /// Part of the enterprise's name, or the start of the credit code.
    pub q: Option<String>,
    pub import_id: Option<i64>,
}

/// The ledger of one month within scope and filter.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodTotal {
    pub period: String,
    pub rows: i64,
    pub enterprises: i64,
    pub total_fen: i64,
    /// Refunds and corrections, ≤ 0.
    pub negative_fen: i64,
}

const LEDGER: &str = "SELECT l.id, l.import_id, l.enterprise_id, e.name AS enterprise_name, l.credit_code, l.period, \
    l.tax_type, l.tax_item, l.amount_fen, l.retained_basis_points, l.voucher_kind, l.row_no \
    FROM tax_ledger l JOIN enterprises e ON e.id = l.enterprise_id WHERE 1 = 1";

const IMPORTS: &str = "SELECT id, at, username, source, file_sha256, rows, total_fen FROM tax_imports";

fn ledger_row(r: &AnyRow) -> Result<LedgerRow> {
    Ok(LedgerRow {
        id: r.try_get("id")?,
        import_id: r.try_get("import_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        credit_code: r.try_get("credit_code")?,
        period: r.try_get("period")?,
        tax_type: r.try_get("tax_type")?,
        tax_item: r.try_get("tax_item")?,
        amount_fen: r.try_get("amount_fen")?,
        retained_basis_points: r.try_get("retained_basis_points")?,
        voucher_kind: r.try_get("voucher_kind")?,
        row_no: r.try_get("row_no")?,
    })
}

fn import_row(r: &AnyRow) -> Result<TaxImportRow> {
    Ok(TaxImportRow {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        username: r.try_get("username")?,
        source: r.try_get("source")?,
        file_sha256: r.try_get("file_sha256")?,
        rows: r.try_get("rows")?,
        total_fen: r.try_get("total_fen")?,
    })
}

fn filters(s: &mut Sql, scope_: &Scope, f: &LedgerFilter, with_period: bool) {
    scope::tax_ledger(s, scope_);
    if with_period && let Some(p) = f.period {
        s.push(" AND l.period = ").text(p.to_string());
    }
    if let Some(id) = f.enterprise_id {
        s.push(" AND l.enterprise_id = ").i64(id);
    }
    if let Some(id) = f.import_id {
        s.push(" AND l.import_id = ").i64(id);
    }
    if let Some(q) = &f.q {
        s.push(" AND (e.name LIKE ").like(q);
        if q.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
            s.push(" OR l.credit_code LIKE ").text(format!("{q}%"));
        }
        s.push(")");
    }
}

/// Values bound per `IN (…)` lookup: SQLite binds numbered parameters by a linear name lookup, so its
/// statements stay small (see `enterprise_write::chunk`).
pub(crate) fn lookup_chunk(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 250,
        Backend::Postgres => 2_000,
    }
}

fn in_list(s: &mut Sql, values: &[String]) {
    s.push(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.text(v.clone());
    }
    s.push(")");
}

impl Store {
    /// The import of the file with this SHA-256, if any.
    pub async fn tax_import_by_sha(&self, file_sha256: &str) -> Result<Option<TaxImportRow>> {
        let mut s = Sql::new(IMPORTS);
        s.push(" WHERE file_sha256 = ").text(file_sha256);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(import_row).transpose()
    }

    /// The newest imports (whole-zone or department scope only; nothing for others).
    pub async fn tax_imports(&self, scope_: &Scope, limit: i64) -> Result<Vec<TaxImportRow>> {
        if !matches!(scope_, Scope::Zone | Scope::Department(_)) {
            return Ok(Vec::new());
        }
        let mut s = Sql::new(IMPORTS);
        s.push(" ORDER BY id DESC LIMIT ").i64(limit.clamp(1, 200));
        s.fetch_all(self.pool()).await?.iter().map(import_row).collect()
    }

    /// Imports parsed rows in one transaction; see the module docs. Whole-zone or department scope only.
    pub async fn import_tax_ledger(
        &self,
        actor: &Actor,
        scope_: &Scope,
        source: &str,
        file_sha256: &str,
        rows: &[TaxRow],
        now: i64,
    ) -> Result<TaxImportOutcome> {
        if !matches!(scope_, Scope::Zone | Scope::Department(_)) {
            return Err(Error::Invalid("导入税收台账需全区或部门数据范围".into()));
        }
        if rows.is_empty() {
            return Err(Error::Invalid("表格中没有数据行".into()));
        }
        let mut tx = self.begin().await?;
        // On the settlement lock: a draft records the highest ledger id it saw as the rows it holds,
        // so no import may commit lower ids after it (revenue_settle_input::ledger_through).
        crate::revenue_settlement::lock(&mut tx).await?;
        let mut same = Sql::new(IMPORTS);
        same.push(" WHERE file_sha256 = ").text(file_sha256);
        if let Some(import) = same.query().fetch_optional(&mut *tx.tx).await?.as_ref().map(import_row).transpose()? {
            return Ok(TaxImportOutcome::AlreadyImported { import });
        }
        let ids = self.enterprise_ids(&mut tx, rows).await?;
        let keys: Vec<String> = rows.iter().map(|r| sha256_hex(r.duplicate_key().as_bytes())).collect();
        let mut problems = earlier_imports(&mut tx, rows, &keys).await?;
        for r in rows {
            if !ids.contains_key(r.credit_code.as_str()) {
                problems.push(RowProblem {
                    row: r.row,
                    credit_code: r.credit_code.as_str().to_string(),
                    kind: RowProblemKind::UnknownEnterprise,
                    message: "该统一社会信用代码未在企业档案中登记，请先登记企业".into(),
                });
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.row);
            return Ok(TaxImportOutcome::Refused { problems });
        }
        let total = rows
            .iter()
            .try_fold(0i64, |t, r| t.checked_add(r.amount.fen()))
            .ok_or_else(|| Error::Invalid("金额合计超出范围".into()))?;
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO tax_imports (at, user_id, username, source, file_sha256, rows, total_fen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(now)
        .bind(actor.user_id)
        .bind(actor.username.clone())
        .bind(source.to_string())
        .bind(file_sha256.to_string())
        .bind(rows.len() as i64)
        .bind(total)
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| Error::from(e).unique_as("同一文件正由他人导入，请稍后刷新查看"))?;
        // 128 rows a statement with positional parameters on SQLite (sql.rs `for_backend`), as the
        // registry import: numbered parameters bind in quadratic time (docs/BENCHMARKS.md).
        let per = import_chunk(tx.backend);
        for (part, part_keys) in rows.chunks(per).zip(keys.chunks(per)) {
            let mut s = Sql::new(
                "INSERT INTO tax_ledger (import_id, enterprise_id, credit_code, period, tax_type, tax_item, \
                 amount_fen, retained_basis_points, voucher_kind, row_no, row_key) VALUES ",
            );
            for (i, (r, key)) in part.iter().zip(part_keys).enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                let enterprise = ids.get(r.credit_code.as_str()).copied().unwrap_or_default();
                s.push("(").i64(import_id).push(", ").i64(enterprise).push(", ").text(r.credit_code.as_str());
                s.push(", ").text(r.period.to_string()).push(", ").text(r.tax_type.name());
                s.push(", ").bind(Arg::OptText(r.tax_item.clone())).push(", ").i64(r.amount.fen());
                s.push(", ").bind(Arg::OptI64(r.retained_share.map(|s| i64::from(s.basis_points()))));
                s.push(", ").text(voucher_code(r.voucher_kind)).push(", ").i64(r.row as i64);
                s.push(", ").text(key.clone()).push(")");
            }
            s.for_backend(tx.backend)
                .query()
                .execute(&mut *tx.tx)
                .await
                .map_err(|e| Error::from(e).unique_as("其中的税款正由他人同时导入，请稍后刷新查看"))?;
        }
        let periods: Vec<String> =
            rows.iter().map(|r| r.period.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut q = Sql::new("SELECT period FROM settlements WHERE status = 'confirmed' AND period");
        in_list(&mut q, &periods);
        q.push(" ORDER BY period");
        let confirmed: Vec<String> = q
            .query()
            .fetch_all(&mut *tx.tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        let entry = AuditEntry::ok("import", "tax_ledger", format!("import:{import_id}")).detail(serde_json::json!({
            "import_id": import_id, "source": source, "file_sha256": file_sha256, "rows": rows.len(),
            "total_fen": total, "periods": periods, "confirmed_periods": confirmed,
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(TaxImportOutcome::Imported { import_id, rows: rows.len() as i64, total_fen: total, periods, confirmed })
    }

    /// Enterprise ids by credit code, for the codes of `rows` that are registered.
    async fn enterprise_ids(&self, tx: &mut Tx<'_>, rows: &[TaxRow]) -> Result<HashMap<String, i64>> {
        let codes: Vec<String> =
            rows.iter().map(|r| r.credit_code.as_str().to_string()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut ids = HashMap::new();
        for part in codes.chunks(lookup_chunk(tx.backend)) {
            let mut s = Sql::new("SELECT credit_code, id FROM enterprises WHERE credit_code");
            in_list(&mut s, part);
            for r in s.for_backend(tx.backend).query().fetch_all(&mut *tx.tx).await? {
                ids.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
            }
        }
        Ok(ids)
    }
}

/// Rows whose payment an earlier import already holds, named with that import.
async fn earlier_imports(tx: &mut Tx<'_>, rows: &[TaxRow], keys: &[String]) -> Result<Vec<RowProblem>> {
    let mut found: HashMap<String, (i64, i64, String)> = HashMap::new();
    for part in keys.chunks(lookup_chunk(tx.backend)) {
        let mut s = Sql::new(
            "SELECT l.row_key, l.import_id, l.row_no, i.source FROM tax_ledger l \
             JOIN tax_imports i ON i.id = l.import_id WHERE l.row_key",
        );
        in_list(&mut s, part);
        for r in s.for_backend(tx.backend).query().fetch_all(&mut *tx.tx).await? {
            found.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
        }
    }
    Ok(rows
        .iter()
        .zip(keys)
        .filter_map(|(r, k)| {
            found.get(k).map(|(import, row_no, source)| RowProblem {
                row: r.row,
                credit_code: r.credit_code.as_str().to_string(),
                kind: RowProblemKind::AlreadyImported,
                message: format!("这笔税款已由第 {import} 批导入（{source} 第 {row_no} 行），不能重复计入"),
            })
        })
        .collect())
}

fn voucher_code(v: VoucherKind) -> &'static str {
    match v {
        VoucherKind::Receipt => "receipt",
        VoucherKind::Refund => "refund",
    }
}

impl Store {
    /// Ledger rows within scope and filter, newest month first, in sheet order within an import.
    pub async fn list_tax_ledger(
        &self,
        scope_: &Scope,
        f: &LedgerFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<LedgerRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let mut count =
            Sql::new("SELECT COUNT(*) FROM tax_ledger l JOIN enterprises e ON e.id = l.enterprise_id WHERE 1 = 1");
        filters(&mut count, scope_, f, true);
        let mut list = Sql::new(LEDGER);
        filters(&mut list, scope_, f, true);
        list.push(" ORDER BY l.period DESC, l.import_id, l.row_no LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let total = count.count(self.pool()).await?;
        let items = list.fetch_all(self.pool()).await?.iter().map(ledger_row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Totals per month within scope and filter (the filter's own month is ignored, so every month
    /// shows), newest first.
    pub async fn tax_totals(&self, scope_: &Scope, f: &LedgerFilter) -> Result<Vec<PeriodTotal>> {
        // SUM over BIGINT is NUMERIC on PostgreSQL: cast back so both backends return a 64-bit integer.
        let mut s = Sql::new(
            "SELECT l.period, COUNT(*), COUNT(DISTINCT l.enterprise_id), CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.amount_fen < 0 THEN l.amount_fen ELSE 0 END), 0) AS BIGINT) \
             FROM tax_ledger l JOIN enterprises e ON e.id = l.enterprise_id WHERE 1 = 1",
        );
        filters(&mut s, scope_, f, false);
        s.push(" GROUP BY l.period ORDER BY l.period DESC");
        s.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(PeriodTotal {
                    period: r.try_get(0)?,
                    rows: r.try_get(1)?,
                    enterprises: r.try_get(2)?,
                    total_fen: r.try_get(3)?,
                    negative_fen: r.try_get(4)?,
                })
            })
            .collect()
    }
}
