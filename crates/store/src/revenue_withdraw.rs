//! Withdrawing a whole tax-ledger import (撤销导入): a sheet imported by mistake (the wrong month, the
//! wrong county's export) is taken out again, all of it or nothing (DESIGN.md principle 8), by staff
//! who may import.
//!
//! A confirmed settlement never changes (issue 5, item 3), so an import any of whose months is
//! confirmed cannot be withdrawn: its rows are, or will be, part of a confirmed month or of an
//! adjustment of one; a wrong payment there is corrected by importing the reversing rows, settled as
//! adjustments of the next open month. The unconfirmed settlements (drafts and reviewed ones) of the
//! import's months are discarded with it: they were computed from rows that no longer exist, and the
//! month is drafted again from the ledger as it now is.
//!
//! Serialised with drafting and confirming on the settlement lock, so a month cannot be confirmed
//! while its rows are being withdrawn.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::revenue_settle_input::period;
use crate::revenue_settlement::{lock, zone_wide};
use crate::revenue_tax::TaxImportRow;
use crate::{Store, Tx};
use dianxiaoer_core::access::Scope;
use serde::Serialize;
use sqlx::Row;

/// What a withdrawal took out.
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawnImport {
    pub import: TaxImportRow,
    /// The months of its rows, "2022-01", in order.
    pub periods: Vec<String>,
    /// Months whose unconfirmed settlement was discarded and must be drafted again.
    pub discarded: Vec<String>,
}

/// The distinct months of an import's rows.
async fn import_periods(tx: &mut Tx<'_>, import_id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT DISTINCT period FROM tax_ledger WHERE import_id = $1 ORDER BY period")
        .bind(import_id)
        .fetch_all(&mut *tx.tx)
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Settlements of the import's months with the given status condition, as (id, period).
async fn settlements_of(tx: &mut Tx<'_>, import_id: i64, confirmed: bool) -> Result<Vec<(i64, String)>> {
    let sql = if confirmed {
        "SELECT id, period FROM settlements WHERE status = 'confirmed' AND period IN \
         (SELECT DISTINCT period FROM tax_ledger WHERE import_id = $1) ORDER BY period"
    } else {
        "SELECT id, period FROM settlements WHERE status <> 'confirmed' AND period IN \
         (SELECT DISTINCT period FROM tax_ledger WHERE import_id = $1) ORDER BY period"
    };
    let rows = sqlx::query(sql).bind(import_id).fetch_all(&mut *tx.tx).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

fn labels(periods: &[(i64, String)]) -> Result<String> {
    let names: Vec<String> = periods.iter().map(|(_, p)| period(p).map(|p| p.label())).collect::<Result<_>>()?;
    Ok(names.join("、"))
}

impl Store {
    /// Withdraws import `import_id` with every row it brought; see the module docs. `NotFound` for an
    /// unknown import or outside the whole-zone and department scopes (which alone see imports);
    /// `Conflict`, with nothing changed, when one of its months is confirmed.
    pub async fn withdraw_tax_import(
        &self,
        actor: &Actor,
        scope: &Scope,
        import_id: i64,
        now: i64,
    ) -> Result<WithdrawnImport> {
        if !zone_wide(scope) {
            return Err(Error::NotFound);
        }
        let mut tx = self.begin().await?;
        lock(&mut tx).await?;
        let import =
            sqlx::query("SELECT id, at, username, source, file_sha256, rows, total_fen FROM tax_imports WHERE id = $1")
                .bind(import_id)
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| -> Result<TaxImportRow> {
                    Ok(TaxImportRow {
                        id: r.try_get("id")?,
                        at: r.try_get("at")?,
                        username: r.try_get("username")?,
                        source: r.try_get("source")?,
                        file_sha256: r.try_get("file_sha256")?,
                        rows: r.try_get("rows")?,
                        total_fen: r.try_get("total_fen")?,
                    })
                })
                .transpose()?
                .ok_or(Error::NotFound)?;
        let confirmed = settlements_of(&mut tx, import_id, true).await?;
        if !confirmed.is_empty() {
            return Err(Error::Conflict(format!(
                "第 {} 批导入（{}）含有已确认结算的月份：{}。已确认的结算不能更改，因此不能撤销这批导入；\
                 如有差错，请导入更正（红字）台账，将作为调整计入下一个未确认的月份",
                import.id,
                import.source,
                labels(&confirmed)?
            )));
        }
        let periods = import_periods(&mut tx, import_id).await?;
        let drafts = settlements_of(&mut tx, import_id, false).await?;
        for (id, _) in &drafts {
            crate::revenue_settle_write::discard(&mut tx, *id).await?;
            sqlx::query("DELETE FROM settlements WHERE id = $1 AND status <> 'confirmed'")
                .bind(*id)
                .execute(&mut *tx.tx)
                .await?;
        }
        let deleted =
            sqlx::query("DELETE FROM tax_ledger WHERE import_id = $1").bind(import_id).execute(&mut *tx.tx).await?;
        sqlx::query("DELETE FROM tax_imports WHERE id = $1").bind(import_id).execute(&mut *tx.tx).await?;
        let discarded: Vec<String> = drafts.into_iter().map(|(_, p)| p).collect();
        let entry =
            AuditEntry::ok("withdraw_import", "tax_ledger", format!("import:{import_id}")).detail(serde_json::json!({
                "import_id": import_id, "source": import.source, "file_sha256": import.file_sha256,
                "rows": deleted.rows_affected(), "total_fen": import.total_fen, "periods": periods,
                "discarded_settlements": discarded,
            }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(WithdrawnImport { import, periods, discarded })
    }
}
