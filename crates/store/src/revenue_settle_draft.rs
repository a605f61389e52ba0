//! Drafting settlements: one month, or every open month of a range of up to a year in one
//! transaction. A month is drafted in two halves: *prepared* (its ledger rows read and settled by the
//! core, summed into entries, all in memory) and *stored* (the settlement's row, its entries and the
//! audit record written). Drafting a range prepares the next month through a read transaction beside
//! the writer's while the writer stores the month before: the database reads on one core while it
//! writes on the other (issue 5, Measure: a year at 10⁵ enterprises against DuckDB on both cores).

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::revenue_settle_input::{self as input, ProjectsRead};
use crate::revenue_settle_read as read;
use crate::revenue_settle_write as write;
use crate::revenue_settlement::{SettlementRow, SettlementStatus, confirmed_refusal, current, lock, zone_wide};
use crate::sql::{Arg, Sql};
use crate::{Store, Tx};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::settlement::{Settlement, SettlementInput, Settler};
use dianxiaoer_core::revenue::tax::RetainedShareTable;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Months one request may draft: a year, so that a request ends in seconds even at 10⁵ enterprises.
pub const MAX_MONTHS_DRAFTED: usize = 12;

/// What drafting a range did.
#[derive(Debug, Clone, Serialize)]
pub struct DraftedMonths {
    /// The months drafted, oldest first.
    pub drafted: Vec<SettlementRow>,
    /// Months of the range already confirmed, left as they were ("2022-03").
    pub skipped: Vec<String>,
}

/// What every month of a draft reads once, under the settlement lock.
struct Shared {
    confirmed: BTreeSet<Period>,
    kept: Arc<ProjectsRead>,
    retained: RetainedShareTable,
    /// The highest ledger id: the last row every month drafted saw.
    through: i64,
}

async fn shared(store: &Store, tx: &mut Tx<'_>) -> Result<Shared> {
    Ok(Shared {
        confirmed: input::confirmed_periods(tx).await?,
        kept: input::projects_kept(store, tx).await?,
        retained: input::retained_shares(tx).await?,
        through: read::ledger_through(tx).await?,
    })
}

/// Counts of a computed settlement, as stored on its row.
struct Counts {
    total: i64,
    entries: i64,
    rows: i64,
    adjustments: i64,
    unshared: i64,
    unshared_fen: i64,
}

/// `w.late_rows` are the rows of confirmed months settled here, as entries or unshared.
fn counts(s: &Settlement, w: &write::Written, considered: usize) -> Result<Counts> {
    let unshared_fen = s
        .unshared
        .iter()
        .try_fold(0i64, |t, u| t.checked_add(u.shareable.map_or(0, |f| f.fen())))
        .ok_or_else(|| Error::Invalid("金额合计超出范围".into()))?;
    Ok(Counts {
        total: s.total.fen(),
        entries: w.core_entries,
        rows: considered as i64,
        adjustments: w.late_rows.len() as i64,
        unshared: s.unshared.len() as i64,
        unshared_fen,
    })
}

/// A month settled in memory, not yet written.
struct Prepared {
    p: Period,
    settled: Settlement,
    written: write::Written,
    /// Ledger ids in the order the core numbered the rows.
    ledger: Vec<i64>,
    counts: Counts,
    /// Time spent reading and settling, and then summing.
    read: Duration,
    summed: Duration,
}

/// Reads the rows that settle in `p` through `tx` (the writer's, or a read transaction beside it) and
/// settles them. Refused when `p` is confirmed.
async fn prepare(tx: &mut Tx<'_>, s: &Shared, p: Period) -> Result<Prepared> {
    let t0 = Instant::now();
    let kept = &s.kept;
    let input = SettlementInput {
        period: p,
        confirmed: &s.confirmed,
        projects: &kept.projects,
        links: &kept.links,
        retained: &s.retained,
        rows: &[],
    };
    let mut settler = Settler::new(&input)?;
    let mut sums = write::Sums::default();
    let ledger =
        read::settle_ledger(tx, p, &kept.codes, |row, enterprise| settler.row(row, |e| sums.add(e, enterprise)))
            .await?;
    let read = t0.elapsed();
    let mut settled = settler.finish();
    // Rows of enterprises without a project were settled last; their reasons go in ledger order.
    settled.unshared.sort_by_key(|u| u.row);
    let written = sums.finish(&settled, &ledger)?;
    if !written.is_balanced(&settled) {
        return Err(Error::Invalid("结算分录不平衡，已放弃本次起草".into()));
    }
    let counts = counts(&settled, &written, ledger.len() - settled.other_periods.len())?;
    Ok(Prepared { p, settled, written, ledger, counts, read, summed: t0.elapsed() })
}

/// [`prepare`] through a read transaction of its own, handed back for the next month.
async fn prepare_beside(mut beside: Tx<'static>, s: Arc<Shared>, p: Period) -> Result<(Tx<'static>, Prepared)> {
    let m = prepare(&mut beside, &s, p).await?;
    Ok((beside, m))
}

/// Writes `m` as the draft of its month, replacing an earlier draft; refused when the month is
/// confirmed. Returns the settlement's id.
async fn store_month(
    store: &Store,
    tx: &mut Tx<'_>,
    actor: &Actor,
    m: &Prepared,
    through: i64,
    now: i64,
) -> Result<i64> {
    let t0 = Instant::now();
    let (p, c) = (m.p, &m.counts);
    let existing = current(tx, p).await?;
    let id = match existing {
        Some((_, SettlementStatus::Confirmed, ..)) => return Err(confirmed_refusal(p)),
        Some((id, ..)) => {
            write::discard(tx, id).await?;
            let mut s = Sql::new("UPDATE settlements SET status = 'draft', drafted_at = ");
            s.i64(now).push(", drafted_by = ").bind(Arg::OptI64(actor.user_id));
            s.push(", drafted_by_name = ").text(actor.username.clone());
            s.push(", reviewed_at = NULL, reviewed_by = NULL, reviewed_by_name = NULL, total_fen = ").i64(c.total);
            s.push(", entry_count = ").i64(c.entries).push(", row_count = ").i64(c.rows);
            s.push(", adjustment_count = ").i64(c.adjustments).push(", unshared_count = ").i64(c.unshared);
            s.push(", unshared_fen = ").i64(c.unshared_fen).push(", ledger_through = ").i64(through);
            s.push(" WHERE id = ").i64(id).push(" AND status <> 'confirmed'");
            if s.query().execute(&mut *tx.tx).await?.rows_affected() == 0 {
                return Err(confirmed_refusal(p));
            }
            id
        }
        None => {
            let mut s = Sql::new(
                "INSERT INTO settlements (period, status, drafted_at, drafted_by, drafted_by_name, total_fen, \
                 entry_count, row_count, adjustment_count, unshared_count, unshared_fen, ledger_through) VALUES (",
            );
            s.text(p.to_string()).push(", 'draft', ").i64(now).push(", ").bind(Arg::OptI64(actor.user_id));
            s.push(", ").text(actor.username.clone()).push(", ").i64(c.total).push(", ").i64(c.entries);
            s.push(", ").i64(c.rows).push(", ").i64(c.adjustments).push(", ").i64(c.unshared);
            s.push(", ").i64(c.unshared_fen).push(", ").i64(through).push(") RETURNING id");
            s.query()
                .fetch_one(&mut *tx.tx)
                .await
                .map_err(|e| Error::from(e).unique_as("该月结算正由他人同时起草，请稍后刷新查看"))?
                .try_get(0)?
        }
    };
    let cleared = t0.elapsed();
    write::write(tx, id, &m.written, &m.settled, &m.ledger).await?;
    let entry = AuditEntry::ok("draft_settlement", "settlement", p).detail(serde_json::json!({
        "settlement_id": id, "redraft": existing.is_some(), "total_fen": c.total, "entries": c.entries,
        "rows": c.rows, "adjustments": c.adjustments, "unshared": c.unshared, "unshared_fen": c.unshared_fen,
    }));
    store.audit(tx, actor, entry, now).await?;
    // Where a draft's time goes, logged at debug level (benches/revenue.sh prints it).
    tracing::debug!(
        period = %p, rows = m.ledger.len(), entries = m.written.entries.len(), read_and_settled = ?m.read,
        summed = ?m.summed, ?cleared, stored = ?t0.elapsed(), "settlement drafted"
    );
    Ok(id)
}

impl Store {
    /// Drafts (or re-drafts) the settlement of `p`. Refused, with nothing written, when `p` is
    /// confirmed. Whole-zone or zone-department scope only.
    pub async fn draft_settlement(&self, actor: &Actor, scope: &Scope, p: Period, now: i64) -> Result<SettlementRow> {
        if !zone_wide(scope) {
            return Err(Error::Invalid("结算需全区或部门数据范围".into()));
        }
        let mut tx = self.begin().await?;
        lock(&mut tx).await?;
        let s = shared(self, &mut tx).await?;
        if s.confirmed.contains(&p) {
            return Err(confirmed_refusal(p));
        }
        let m = prepare(&mut tx, &s, p).await?;
        store_month(self, &mut tx, actor, &m, s.through, now).await?;
        tx.commit().await?;
        self.settlement(scope, p).await
    }

    /// Drafts every month from `from` to `to` (at most [`MAX_MONTHS_DRAFTED`]) that is not confirmed,
    /// oldest first, in one transaction: all of them or, on any refusal, none. Confirmed months are
    /// skipped and named. Whole-zone or zone-department scope only.
    pub async fn draft_settlements(
        &self,
        actor: &Actor,
        scope: &Scope,
        from: Period,
        to: Period,
        now: i64,
    ) -> Result<DraftedMonths> {
        if !zone_wide(scope) {
            return Err(Error::Invalid("结算需全区或部门数据范围".into()));
        }
        if to < from {
            return Err(Error::Invalid("结束月份不能早于起始月份".into()));
        }
        let range: Vec<Period> = std::iter::successors(Some(from), |p| Some(p.next()))
            .take_while(|p| *p <= to)
            .take(MAX_MONTHS_DRAFTED + 1)
            .collect();
        if range.len() > MAX_MONTHS_DRAFTED {
            return Err(Error::Invalid(format!("一次最多起草 {MAX_MONTHS_DRAFTED} 个月，请缩小月份范围")));
        }
        let mut tx = self.begin().await?;
        lock(&mut tx).await?;
        let s = shared(self, &mut tx).await?;
        let (skipped, months): (Vec<Period>, Vec<Period>) = range.into_iter().partition(|p| s.confirmed.contains(p));
        // Begun under the lock: no import or draft can commit until the writer does, so it reads what
        // the writer would (a month's rows and the confirmed settlements; drafts are not read). Each
        // month is prepared on another thread while the writer stores the one before.
        let beside = self.begin_read().await?;
        let s = Arc::new(s);
        let mut running = months.first().map(|p| tokio::spawn(prepare_beside(beside, s.clone(), *p)));
        let mut next_months = months.iter().skip(1);
        while let Some(handle) = running.take() {
            let (beside, m) = handle.await.map_err(|e| Error::Invalid(format!("结算起草中断：{e}")))??;
            match next_months.next() {
                Some(p) => running = Some(tokio::spawn(prepare_beside(beside, s.clone(), *p))),
                None => beside.commit().await?,
            }
            store_month(self, &mut tx, actor, &m, s.through, now).await?;
        }
        tx.commit().await?;
        let mut drafted = Vec::with_capacity(months.len());
        for p in months {
            drafted.push(self.settlement(scope, p).await?);
        }
        Ok(DraftedMonths { drafted, skipped: skipped.iter().map(Period::to_string).collect() })
    }
}
