//! Settlements of the enclave economy's tax (税收分成结算), one per month: drafted by zone finance
//! staff (the core's `settle` over the month's ledger, written as balanced entries), reviewed by
//! another user (four eyes), confirmed by leadership — and from then on never changed: nothing here
//! updates or deletes a confirmed settlement or its entries. A correction of a confirmed month,
//! imported later, is settled as adjustment entries of the next open month.
//!
//! Drafting, reviewing and confirming serialise on one lock (the SQLite writer lock, a transaction-
//! scoped advisory lock on PostgreSQL), so a draft never interleaves with the confirmation of its month.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::revenue_settle_input::unit_key;
use crate::sql::{Arg, Sql};
use crate::{Backend, Store, Tx};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::revenue::party::Unit;
use dianxiaoer_core::revenue::period::Period;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// Where a settlement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementStatus {
    Draft,
    Reviewed,
    Confirmed,
}

impl SettlementStatus {
    pub fn code(self) -> &'static str {
        match self {
            SettlementStatus::Draft => "draft",
            SettlementStatus::Reviewed => "reviewed",
            SettlementStatus::Confirmed => "confirmed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SettlementStatus::Draft => "草稿",
            SettlementStatus::Reviewed => "已复核",
            SettlementStatus::Confirmed => "已确认",
        }
    }

    fn parse(code: &str) -> Result<SettlementStatus> {
        Ok(match code {
            "draft" => SettlementStatus::Draft,
            "reviewed" => SettlementStatus::Reviewed,
            "confirmed" => SettlementStatus::Confirmed,
            _ => return Err(Error::Invalid("结算状态无效".into())),
        })
    }
}

/// One month's settlement.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementRow {
    pub id: i64,
    /// "2022-01".
    pub period: String,
    pub status: SettlementStatus,
    pub drafted_at: i64,
    pub drafted_by: Option<i64>,
    pub drafted_by_name: String,
    pub reviewed_at: Option<i64>,
    pub reviewed_by_name: Option<String>,
    pub confirmed_at: Option<i64>,
    pub confirmed_by_name: Option<String>,
    /// The shareable tax shared: the debits of all entries, equal to the credits to all units.
    pub total_fen: i64,
    /// Balanced entries as the core computed them (one per ledger row and project); stored summed per
    /// project and month (`settlement_entries`).
    pub entry_count: i64,
    /// Ledger rows considered, adjustments included.
    pub row_count: i64,
    /// Rows of confirmed months settled here as adjustments.
    pub adjustment_count: i64,
    pub unshared_count: i64,
    /// County-retained amount left unshared, where known.
    pub unshared_fen: i64,
    /// For a town or county department: what it receives in this settlement.
    pub own_fen: Option<i64>,
    /// Not confirmed, and the ledger, projects or retained shares changed since it was drafted.
    pub stale: bool,
}

const SELECT: &str = "SELECT s.id, s.period, s.status, s.drafted_at, s.drafted_by, s.drafted_by_name, s.reviewed_at, \
    s.reviewed_by_name, s.confirmed_at, s.confirmed_by_name, s.total_fen, s.entry_count, s.row_count, \
    s.adjustment_count, s.unshared_count, s.unshared_fen, \
    CASE WHEN s.status <> 'confirmed' AND (s.drafted_at < (SELECT COALESCE(MAX(i.at), 0) FROM tax_imports i) \
        OR s.drafted_at < (SELECT COALESCE(MAX(p.updated_at), 0) FROM investment_projects p) \
        OR s.drafted_at < (SELECT COALESCE(MAX(r.created_at), 0) FROM retained_share_rules r)) THEN 1 ELSE 0 END AS stale \
    FROM settlements s WHERE 1 = 1";

fn row(r: &AnyRow) -> Result<SettlementRow> {
    Ok(SettlementRow {
        id: r.try_get("id")?,
        period: r.try_get("period")?,
        status: SettlementStatus::parse(&r.try_get::<String, _>("status")?)?,
        drafted_at: r.try_get("drafted_at")?,
        drafted_by: r.try_get("drafted_by")?,
        drafted_by_name: r.try_get("drafted_by_name")?,
        reviewed_at: r.try_get("reviewed_at")?,
        reviewed_by_name: r.try_get("reviewed_by_name")?,
        confirmed_at: r.try_get("confirmed_at")?,
        confirmed_by_name: r.try_get("confirmed_by_name")?,
        total_fen: r.try_get("total_fen")?,
        entry_count: r.try_get("entry_count")?,
        row_count: r.try_get("row_count")?,
        adjustment_count: r.try_get("adjustment_count")?,
        unshared_count: r.try_get("unshared_count")?,
        unshared_fen: r.try_get("unshared_fen")?,
        own_fen: None,
        stale: r.try_get::<i64, _>("stale")? == 1,
    })
}

/// Whole-zone or zone-department scope: the zone's finance work.
pub(crate) fn zone_wide(scope: &Scope) -> bool {
    matches!(scope, Scope::Zone | Scope::Department(_))
}

/// The unit a town or county-department scope stands for.
pub fn own_unit(scope: &Scope) -> Option<Unit> {
    match scope {
        Scope::Town(code) => dianxiaoer_core::revenue::party::TownCode::parse(code).ok().map(Unit::Town),
        Scope::CountyDepartment(d) => Some(Unit::Department(dianxiaoer_core::revenue::party::DepartmentId::new(*d))),
        _ => None,
    }
}

/// Serialises the settlement lifecycle (see the module docs).
pub(crate) async fn lock(tx: &mut Tx<'_>) -> Result<()> {
    if tx.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7233009)").execute(&mut *tx.tx).await?;
    }
    Ok(())
}

pub(crate) async fn current(
    tx: &mut Tx<'_>,
    p: Period,
) -> Result<Option<(i64, SettlementStatus, Option<i64>, Option<i64>)>> {
    let r = sqlx::query("SELECT id, status, drafted_by, reviewed_by FROM settlements WHERE period = $1")
        .bind(p.to_string())
        .fetch_optional(&mut *tx.tx)
        .await?;
    r.map(|r| {
        Ok((
            r.try_get("id")?,
            SettlementStatus::parse(&r.try_get::<String, _>("status")?)?,
            r.try_get("drafted_by")?,
            r.try_get("reviewed_by")?,
        ))
    })
    .transpose()
}

pub(crate) fn confirmed_refusal(p: Period) -> Error {
    Error::Conflict(format!(
        "{}的结算已确认，不能重新起草或修改；对该月的更正请导入台账，将作为调整计入下一个未确认的月份",
        p.label()
    ))
}

impl Store {
    /// Marks a draft reviewed. The reviewer must not be the drafter (four eyes).
    pub async fn review_settlement(&self, actor: &Actor, scope: &Scope, p: Period, now: i64) -> Result<()> {
        if !zone_wide(scope) {
            return Err(Error::NotFound);
        }
        let mut tx = self.begin().await?;
        lock(&mut tx).await?;
        let (id, status, drafted_by, _) = current(&mut tx, p).await?.ok_or(Error::NotFound)?;
        match status {
            SettlementStatus::Draft => {}
            SettlementStatus::Reviewed => return Err(Error::Conflict(format!("{}的结算已复核", p.label()))),
            SettlementStatus::Confirmed => return Err(confirmed_refusal(p)),
        }
        if actor.user_id.is_none() || drafted_by == actor.user_id {
            return Err(Error::Invalid("复核人不能是起草人：请由另一位工作人员复核（双人复核）".into()));
        }
        let mut s = Sql::new("UPDATE settlements SET status = 'reviewed', reviewed_at = ");
        s.i64(now).push(", reviewed_by = ").bind(Arg::OptI64(actor.user_id));
        s.push(", reviewed_by_name = ").text(actor.username.clone());
        s.push(" WHERE id = ").i64(id).push(" AND status = 'draft'");
        s.query().execute(&mut *tx.tx).await?;
        self.audit(&mut tx, actor, AuditEntry::ok("review_settlement", "settlement", p), now).await?;
        tx.commit().await
    }

    /// Confirms a reviewed settlement; it never changes afterwards. The confirmer must be neither the
    /// drafter nor the reviewer.
    pub async fn confirm_settlement(&self, actor: &Actor, scope: &Scope, p: Period, now: i64) -> Result<()> {
        if !zone_wide(scope) {
            return Err(Error::NotFound);
        }
        let mut tx = self.begin().await?;
        lock(&mut tx).await?;
        let (id, status, drafted_by, reviewed_by) = current(&mut tx, p).await?.ok_or(Error::NotFound)?;
        match status {
            SettlementStatus::Reviewed => {}
            SettlementStatus::Draft => {
                return Err(Error::Conflict(format!("{}的结算尚未复核，复核后才能确认", p.label())));
            }
            SettlementStatus::Confirmed => return Err(Error::Conflict(format!("{}的结算已确认", p.label()))),
        }
        if actor.user_id.is_none() || actor.user_id == drafted_by || actor.user_id == reviewed_by {
            return Err(Error::Invalid("确认人不能是起草人或复核人".into()));
        }
        let mut s = Sql::new("UPDATE settlements SET status = 'confirmed', confirmed_at = ");
        s.i64(now).push(", confirmed_by = ").bind(Arg::OptI64(actor.user_id));
        s.push(", confirmed_by_name = ").text(actor.username.clone());
        s.push(" WHERE id = ").i64(id).push(" AND status = 'reviewed'");
        s.query().execute(&mut *tx.tx).await?;
        let total: i64 = sqlx::query_scalar("SELECT total_fen FROM settlements WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx.tx)
            .await?;
        let entry =
            AuditEntry::ok("confirm_settlement", "settlement", p).detail(serde_json::json!({"total_fen": total}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// The settlements `scope` may see, newest month first: all for the zone's staff; the confirmed
    /// ones, with their own share, for a town or county department; none for anyone else.
    pub async fn settlements(&self, scope: &Scope) -> Result<Vec<SettlementRow>> {
        let mut s = Sql::new(SELECT);
        let own = own_unit(scope);
        if !zone_wide(scope) {
            if own.is_none() {
                return Ok(Vec::new());
            }
            s.push(" AND s.status = 'confirmed'");
        }
        s.push(" ORDER BY s.period DESC");
        let mut list: Vec<SettlementRow> = s.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        if let Some(u) = own {
            let (kind, code) = unit_key(&u);
            let mut q = Sql::new(
                "SELECT settlement_id, CAST(SUM(amount_fen) AS BIGINT) FROM settlement_tax_types WHERE unit_kind = ",
            );
            q.text(kind).push(" AND unit_code = ").text(code).push(" GROUP BY settlement_id");
            let sums: BTreeMap<i64, i64> = q
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_>>()?;
            for s in &mut list {
                s.own_fen = Some(sums.get(&s.id).copied().unwrap_or(0));
            }
        }
        Ok(list)
    }

    /// One month's settlement: any for the zone's staff; a confirmed one for a town or county
    /// department (with its own share); `NotFound` otherwise.
    pub async fn settlement(&self, scope: &Scope, p: Period) -> Result<SettlementRow> {
        let mut s = Sql::new(SELECT);
        s.push(" AND s.period = ").text(p.to_string());
        let found =
            s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()?.ok_or(Error::NotFound)?;
        if zone_wide(scope) {
            return Ok(found);
        }
        if found.status != SettlementStatus::Confirmed || own_unit(scope).is_none() {
            return Err(Error::NotFound);
        }
        Ok(found)
    }
}
