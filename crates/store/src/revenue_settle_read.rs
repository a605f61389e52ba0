//! The ledger rows a draft settles: the month's own rows and the rows of confirmed months that no
//! confirmed settlement holds, in ledger order, handed to the settlement one by one as they are read.
//!
//! A draft reads 400,000 rows at 10⁵ enterprises (issue 5, Measure). The month's rows are read in id
//! ranges, each packed into one result row (the driver hands every result row from its thread to ours
//! on its own), and the next range is asked for before the one just read is settled, so the database
//! (SQLite's worker thread, or the PostgreSQL server) reads while this thread settles: both cores.

use crate::Tx;
use crate::error::{Error, Result};
use crate::revenue_settle_input::{bad, period};
use crate::revenue_tax::lookup_chunk;
use crate::sql::Sql;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::period::{Period, TaxPeriod};
use dianxiaoer_core::revenue::tax::{RetainedShare, TaxRow, TaxType, VoucherKind};
use rustc_hash::FxHashMap as HashMap;
use sqlx::Row;
use std::collections::BTreeSet;
use std::future::Future;
use std::task::Poll;

/// Ids one range covers: about 16,000 rows when a month's rows were imported together.
const RANGE: i64 = 16_384;

/// One range of the month's own rows as five lists in one row order, one aggregate each: ids,
/// enterprises, amounts and `basis points × 2 + refund` (−1 for no basis points) separated by commas,
/// tax types by newlines (a tax type's name has no whitespace). SQLite builds five plain lists two to
/// three times as fast as one list of composed lines.
const OWN_RANGE: &str = "SELECT string_agg(CAST(id AS TEXT), ','), string_agg(CAST(enterprise_id AS TEXT), ','), \
    string_agg(CAST(amount_fen AS TEXT), ','), string_agg(CAST(COALESCE(retained_basis_points, -1) * 2 + \
    CASE WHEN voucher_kind = 'refund' THEN 1 ELSE 0 END AS TEXT), ','), string_agg(tax_type, '\n') \
    FROM tax_ledger WHERE period = $1 AND id >= $2 AND id < $3";

type Packed = (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

/// Rows of confirmed months that no confirmed settlement holds: above their month's high-water mark
/// (imported after it was drafted) and not held as an adjustment by another confirmed settlement. The
/// core decides which of them settle in the month drafted (the next open month after theirs). `CROSS
/// JOIN` makes SQLite start from the few confirmed settlements: from the ledger side it read every row
/// of every earlier month (0.2–0.4 s a draft at 2·10⁴ enterprises, growing through the year).
const LATE_ROWS: &str = "SELECT l.id, l.enterprise_id, l.tax_type, l.amount_fen, l.retained_basis_points, \
    CASE WHEN l.voucher_kind = 'refund' THEN 1 ELSE 0 END, l.period \
    FROM settlements s CROSS JOIN tax_ledger l \
    WHERE l.period = s.period AND s.status = 'confirmed' AND s.period < $1 AND l.id > s.ledger_through \
    AND NOT EXISTS (SELECT 1 FROM settlement_late_rows x JOIN settlements c ON c.id = x.settlement_id \
        WHERE x.ledger_id = l.id AND c.status = 'confirmed')";

/// The highest ledger id, recorded on a draft as the last row it saw: imports and drafts serialise on
/// the settlement lock, so every row at or below it was there when the draft read the ledger.
pub(crate) async fn ledger_through(tx: &mut Tx<'_>) -> Result<i64> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM tax_ledger").fetch_one(&mut *tx.tx).await?;
    Ok(max.unwrap_or(0))
}

/// A ledger row as read, before it becomes the core's [`TaxRow`].
struct Raw {
    id: i64,
    enterprise_id: i64,
    tax_type: TaxType,
    amount: i64,
    basis_points: Option<i64>,
    refund: bool,
    period: Period,
}

impl Raw {
    fn tax_row(&self, row: usize, code: &CreditCode) -> Result<TaxRow> {
        let retained_share = self
            .basis_points
            .map(|b| RetainedShare::from_basis_points(u32::try_from(b).unwrap_or(u32::MAX)))
            .transpose()
            .map_err(bad)?;
        Ok(TaxRow {
            row,
            credit_code: *code,
            taxpayer_name: None,
            tax_type: self.tax_type.clone(),
            tax_item: None,
            tax_period: TaxPeriod::months(self.period, self.period).map_err(bad)?,
            period: self.period,
            amount: Fen::from_fen(self.amount),
            retained_share,
            voucher_kind: if self.refund { VoucherKind::Refund } else { VoucherKind::Receipt },
            received_on: None,
            ticket: None,
        })
    }
}

/// Tax types by name, parsed once per draft.
#[derive(Default)]
struct TaxTypes(HashMap<String, TaxType>);

impl TaxTypes {
    fn get(&mut self, name: &str) -> Result<TaxType> {
        if let Some(t) = self.0.get(name) {
            return Ok(t.clone());
        }
        let t = TaxType::parse(name).map_err(bad)?;
        self.0.insert(name.to_string(), t.clone());
        Ok(t)
    }
}

fn unreadable() -> Error {
    Error::Invalid("税收台账记录无法读取".into())
}

/// The rows of one [`OWN_RANGE`] result, in id order.
fn unpack(packed: Packed, p: Period, types: &mut TaxTypes) -> Result<Vec<Raw>> {
    let (Some(ids), Some(enterprises), Some(amounts), Some(shares), Some(names)) = packed else {
        return Ok(Vec::new());
    };
    let int = |s: Option<&str>| s.and_then(|s| s.parse::<i64>().ok()).ok_or_else(unreadable);
    let (mut enterprises, mut amounts, mut shares, mut names) =
        (enterprises.split(','), amounts.split(','), shares.split(','), names.split('\n'));
    let mut out = Vec::with_capacity(ids.len() / 7);
    for id in ids.split(',') {
        let share = int(shares.next())?;
        out.push(Raw {
            id: int(Some(id))?,
            enterprise_id: int(enterprises.next())?,
            amount: int(amounts.next())?,
            basis_points: (share >= 0).then_some(share.div_euclid(2)),
            refund: share.rem_euclid(2) == 1,
            tax_type: types.get(names.next().ok_or_else(unreadable)?)?,
            period: p,
        });
    }
    // PostgreSQL aggregates in no particular order (the same for the five lists).
    out.sort_unstable_by_key(|r| r.id);
    Ok(out)
}

async fn own_range(tx: &mut Tx<'_>, p: &str, from: i64) -> Result<Packed> {
    let q = sqlx::query_as::<_, Packed>(OWN_RANGE).bind(p).bind(from).bind(from.saturating_add(RANGE));
    Ok(q.fetch_one(&mut *tx.tx).await?)
}

/// Where the rows go: numbered in ledger order, settled at once when the enterprise has a project,
/// kept for later otherwise (its credit code is not known yet).
struct Feed<'c, F> {
    codes: &'c HashMap<i64, CreditCode>,
    /// Ledger ids; `row` of the core's [`TaxRow`] is the index into it.
    ledger: Vec<i64>,
    deferred: Vec<(usize, Raw)>,
    settle: F,
}

impl<F: FnMut(&TaxRow, i64) -> Result<()>> Feed<'_, F> {
    fn push(&mut self, r: Raw) -> Result<()> {
        let i = self.ledger.len();
        self.ledger.push(r.id);
        match self.codes.get(&r.enterprise_id) {
            Some(code) => (self.settle)(&r.tax_row(i, code)?, r.enterprise_id),
            None => {
                self.deferred.push((i, r));
                Ok(())
            }
        }
    }

    /// One range of own rows, each after the late rows with lower ids.
    fn range(&mut self, rows: Vec<Raw>, late: &mut std::iter::Peekable<std::vec::IntoIter<Raw>>) -> Result<()> {
        for r in rows {
            while let Some(l) = late.next_if(|l| l.id < r.id) {
                self.push(l)?;
            }
            self.push(r)?;
        }
        Ok(())
    }
}

/// Reads the rows that may settle in `p` and hands each to `settle` as the core's row, `row` being
/// its index in the list of ledger ids returned, with its enterprise. Rows come in ledger order, except those of
/// enterprises without a project (`codes` holds the credit codes of those with one): they come last,
/// once their codes are looked up, and the core leaves them unshared.
pub(crate) async fn settle_ledger(
    tx: &mut Tx<'_>,
    p: Period,
    codes: &HashMap<i64, CreditCode>,
    settle: impl FnMut(&TaxRow, i64) -> Result<()>,
) -> Result<Vec<i64>> {
    let ps = p.to_string();
    let mut types = TaxTypes::default();
    let mut late = Vec::new();
    for r in sqlx::query(LATE_ROWS).bind(&ps).fetch_all(&mut *tx.tx).await? {
        late.push(Raw {
            id: r.try_get(0)?,
            enterprise_id: r.try_get(1)?,
            tax_type: types.get(&r.try_get::<String, _>(2)?)?,
            amount: r.try_get(3)?,
            basis_points: r.try_get(4)?,
            refund: r.try_get::<i64, _>(5)? == 1,
            period: period(&r.try_get::<String, _>(6)?)?,
        });
    }
    late.sort_unstable_by_key(|r| r.id);
    let mut late = late.into_iter().peekable();
    let mut feed = Feed { codes, ledger: Vec::new(), deferred: Vec::new(), settle };
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM tax_ledger WHERE period = $1")
            .bind(&ps)
            .fetch_one(&mut *tx.tx)
            .await?;
    if let (Some(mut from), Some(hi)) = (lo, hi) {
        let mut packed = own_range(tx, &ps, from).await?;
        loop {
            let Some(next_from) = from.checked_add(RANGE).filter(|n| *n <= hi) else {
                feed.range(unpack(packed, p, &mut types)?, &mut late)?;
                break;
            };
            let mut next = std::pin::pin!(own_range(tx, &ps, next_from));
            // The first poll hands the query to the driver; this range is settled meanwhile.
            let first = std::future::poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx))).await;
            feed.range(unpack(packed, p, &mut types)?, &mut late)?;
            packed = match first {
                Poll::Ready(r) => r?,
                Poll::Pending => next.await?,
            };
            from = next_from;
        }
    }
    for l in late {
        feed.push(l)?;
    }
    let Feed { ledger, deferred, mut settle, .. } = feed;
    if !deferred.is_empty() {
        let others = unlinked_codes(tx, &deferred.iter().map(|(_, r)| r.enterprise_id).collect()).await?;
        for (i, r) in deferred {
            let code = others.get(&r.enterprise_id).ok_or_else(|| Error::Invalid("台账行对应的企业不存在".into()))?;
            settle(&r.tax_row(i, code)?, r.enterprise_id)?;
        }
    }
    Ok(ledger)
}

/// Credit codes of the enterprises `ids`.
async fn unlinked_codes(tx: &mut Tx<'_>, ids: &BTreeSet<i64>) -> Result<HashMap<i64, CreditCode>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::default();
    for part in ids.chunks(lookup_chunk(tx.backend)) {
        let mut s = Sql::new("SELECT id, credit_code FROM enterprises WHERE id IN (");
        for (i, id) in part.iter().enumerate() {
            s.push(if i == 0 { "" } else { ", " }).i64(*id);
        }
        s.push(")");
        for r in s.for_backend(tx.backend).query().fetch_all(&mut *tx.tx).await? {
            let code: String = r.try_get(1)?;
            out.insert(r.try_get(0)?, CreditCode::parse(&code).map_err(|e| Error::Invalid(e.message))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranges_unpack_in_id_order() {
        let p = Period::parse("2022-06").unwrap();
        let some = |s: &str| Some(s.to_string());
        let packed = (some("9,7"), some("3,4"), some("-5,1200"), some("-2,6001"), some("增值税\n企业所得税"));
        let rows = unpack(packed, p, &mut TaxTypes::default()).unwrap();
        let got: Vec<_> = rows.iter().map(|r| (r.id, r.enterprise_id, r.amount, r.basis_points, r.refund)).collect();
        assert_eq!(got, [(7, 4, 1200, Some(3000), true), (9, 3, -5, None, false)]);
        assert_eq!(rows[0].tax_type, TaxType::EnterpriseIncome);
        assert!(unpack((None, None, None, None, None), p, &mut TaxTypes::default()).unwrap().is_empty());
        assert!(
            unpack((some("1,2"), some("3"), some("4"), some("0"), some("增值税")), p, &mut TaxTypes::default())
                .is_err()
        );
    }
}
