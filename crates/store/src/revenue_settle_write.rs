//! What a drafted settlement writes: the core's per-row entries summed per project and month into one
//! balanced entry each (`settlement_entries`, the up to three units credited in columns), a unit's
//! amounts per tax type (`settlement_tax_types`), the rows left unshared, and the late rows of
//! confirmed months it holds (`settlement_late_rows`).
//!
//! The rounding stays per ledger row in the core (retained share half away from zero, largest
//! remainder per row); only the results are summed, as the core hands them over, so every unit's total
//! is the same to the fen as one line per row and unit would give, at a twelfth of the rows (issue 5,
//! Measure: 100,000 entries a month at 10⁵ enterprises).

use crate::Tx;
use crate::enterprise_import::import_chunk;
use crate::error::{Error, Result};
use crate::revenue_settle_entries as entries;
use crate::revenue_settle_input::unit_key;
use crate::revenue_statement::unit_param;
use crate::sql::{Arg, Sql};
use dianxiaoer_core::revenue::agreement::SharingRatio;
use dianxiaoer_core::revenue::party::Unit;
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::settlement::{EntryRef, Settlement};
use dianxiaoer_core::revenue::tax::TaxType;
use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

/// One unit credited by an entry, with its sums over the ledger rows that credited it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    /// As statements name it: "town:371323103", "dept:4", "zone"; shared by the month's entries.
    pub unit: Arc<str>,
    pub weight: i64,
    pub row_count: i64,
    pub tax_fen: i64,
    pub debit_fen: i64,
    pub amount_fen: i64,
}

/// One balanced entry to write: the columns of `settlement_entries` after `settlement_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryRow {
    pub project_id: i64,
    pub enterprise_id: i64,
    pub adjusts: Option<String>,
    /// "5:3:2"; shared by the entries of the same ratio.
    pub ratio: Arc<str>,
    pub debit_fen: i64,
    /// One to three, in the split's order (introducer, host town, zone).
    pub slots: Vec<Slot>,
}

/// One unit's amounts of one tax type: the columns of `settlement_tax_types` after `settlement_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TaxTypeTotal {
    pub row_count: i64,
    pub tax_fen: i64,
    pub debit_fen: i64,
    pub amount_fen: i64,
    pub adjustments_fen: i64,
}

/// What a settlement writes besides its own row.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub entries: Vec<EntryRow>,
    /// (unit kind, unit code, tax type) → amounts.
    pub tax_types: BTreeMap<(&'static str, String, String), TaxTypeTotal>,
    /// Ledger ids of rows of confirmed months settled here (as entries or unshared).
    pub late_rows: Vec<i64>,
    /// The core's entries (one per ledger row and project) behind them.
    pub core_entries: i64,
}

impl Written {
    /// Every entry's credits sum to its debit, and the debits and the per-unit totals both to `s`'s
    /// total (the core's split makes each row's credits sum to its debit).
    pub fn is_balanced(&self, s: &Settlement) -> bool {
        let each = self
            .entries
            .iter()
            .all(|e| e.slots.iter().map(|x| i128::from(x.amount_fen)).sum::<i128>() == i128::from(e.debit_fen));
        let debits: i128 = self.entries.iter().map(|e| i128::from(e.debit_fen)).sum();
        let totals: i128 = s.totals.values().map(|f| i128::from(f.fen())).sum();
        each && debits == i128::from(s.total.fen()) && totals == debits
    }
}

fn add(a: &mut i64, b: i64) -> Result<()> {
    *a = a.checked_add(b).ok_or_else(|| Error::Invalid("金额合计超出范围".into()))?;
    Ok(())
}

/// What one entry sums: (project, enterprise, month adjusted).
type EntryKey = (i64, i64, Option<Period>);

/// One entry being summed: the ratio in force, its debit, and per share of the split (in its order)
/// the unit's place in [`Sums::units`], its weight and the sums [rows, tax, debit, amount].
struct Group {
    key: EntryKey,
    ratio: SharingRatio,
    debit: i64,
    shares: [(usize, i64, [i64; 4]); 3],
    len: usize,
}

/// Sums the core's entries as [`settle_with`](dianxiaoer_core::revenue::settlement::settle_with)
/// hands them over into one balanced entry per (project, enterprise, month adjusted), carrying the
/// ratio and weights in force for the rows' own month, and a unit's amounts per tax type.
#[derive(Default)]
pub(crate) struct Sums {
    index: HashMap<EntryKey, usize>,
    groups: Vec<Group>,
    units: Vec<Unit>,
    unit_index: HashMap<Unit, usize>,
    tax_types: Vec<TaxType>,
    /// Per unit place, per tax type place: the amounts (none credited while `row_count` is 0).
    by_tax_type: Vec<Vec<TaxTypeTotal>>,
    late: BTreeSet<usize>,
    core_entries: i64,
}

impl Sums {
    /// Adds one of the core's entries, of a ledger row of `enterprise_id`.
    pub fn add(&mut self, e: &EntryRef<'_>, enterprise_id: i64) -> Result<()> {
        let row = e.row.row;
        let tax = e.row.amount.fen();
        let debit = e.debit.fen();
        let key = (e.project.get(), enterprise_id, e.adjusts);
        let g = match self.index.entry(key) {
            Entry::Occupied(o) => *o.get(),
            Entry::Vacant(v) => {
                let mut group =
                    Group { key, ratio: e.beneficiaries.ratio(), debit: 0, shares: [(0, 0, [0; 4]); 3], len: 0 };
                for (slot, (u, w)) in group.shares.iter_mut().zip(e.beneficiaries.shares()) {
                    let place = *self.unit_index.entry(*u).or_insert_with(|| {
                        self.units.push(*u);
                        self.units.len() - 1
                    });
                    *slot = (place, i64::from(*w), [0; 4]);
                    group.len += 1;
                }
                self.groups.push(group);
                *v.insert(self.groups.len() - 1)
            }
        };
        let t = match self.tax_types.iter().position(|t| *t == e.row.tax_type) {
            Some(t) => t,
            None => {
                self.tax_types.push(e.row.tax_type.clone());
                self.tax_types.len() - 1
            }
        };
        let group = self.groups.get_mut(g).ok_or_else(|| Error::Invalid("结算分录无法汇总".into()))?;
        add(&mut group.debit, debit)?;
        let shares = group.shares.get_mut(..group.len).unwrap_or_default();
        for ((place, _, sums), part) in shares.iter_mut().zip(e.parts) {
            let amount = part.fen();
            if amount == 0 {
                continue;
            }
            sums[0] += 1;
            add(&mut sums[1], tax)?;
            add(&mut sums[2], debit)?;
            add(&mut sums[3], amount)?;
            if self.by_tax_type.len() <= *place {
                self.by_tax_type.resize_with(*place + 1, Vec::new);
            }
            let per_unit = self.by_tax_type.get_mut(*place).ok_or_else(|| Error::Invalid("结算分录无法汇总".into()))?;
            if per_unit.len() <= t {
                per_unit.resize_with(t + 1, TaxTypeTotal::default);
            }
            let total = per_unit.get_mut(t).ok_or_else(|| Error::Invalid("结算分录无法汇总".into()))?;
            total.row_count += 1;
            add(&mut total.tax_fen, tax)?;
            add(&mut total.debit_fen, debit)?;
            add(&mut total.amount_fen, amount)?;
            if e.adjusts.is_some() {
                add(&mut total.adjustments_fen, amount)?;
            }
        }
        if e.adjusts.is_some() {
            self.late.insert(row);
        }
        self.core_entries += 1;
        Ok(())
    }

    /// The entries in (project, enterprise, month adjusted) order, and the late rows: those of the
    /// entries adjusting a confirmed month and those of `s` left unshared from one.
    pub fn finish(mut self, s: &Settlement, ledger: &[i64]) -> Result<Written> {
        let keys: Vec<Arc<str>> = self.units.iter().map(|u| Arc::from(unit_param(u))).collect();
        self.groups.sort_unstable_by_key(|g| g.key);
        let mut entries = Vec::with_capacity(self.groups.len());
        let mut ratios: Vec<(SharingRatio, Arc<str>)> = Vec::new();
        for g in self.groups {
            let (project_id, enterprise_id, adjusts) = g.key;
            let slots = g
                .shares
                .into_iter()
                .take(g.len)
                .filter(|(.., sums)| sums[0] > 0)
                .map(|(place, weight, [row_count, tax_fen, debit_fen, amount_fen])| Slot {
                    unit: keys.get(place).cloned().unwrap_or_else(|| Arc::from("")),
                    weight,
                    row_count,
                    tax_fen,
                    debit_fen,
                    amount_fen,
                })
                .collect();
            let adjusts = adjusts.map(|p| p.to_string());
            let ratio = match ratios.iter().find(|(r, _)| *r == g.ratio) {
                Some((_, text)) => text.clone(),
                None => {
                    let text: Arc<str> = Arc::from(g.ratio.to_string());
                    ratios.push((g.ratio, text.clone()));
                    text
                }
            };
            entries.push(EntryRow { project_id, enterprise_id, adjusts, ratio, debit_fen: g.debit, slots });
        }
        let mut tax_types = BTreeMap::new();
        let credited = self.by_tax_type.into_iter().enumerate().flat_map(|(place, per_unit)| {
            per_unit.into_iter().enumerate().filter(|(_, t)| t.row_count > 0).map(move |(t, total)| (place, t, total))
        });
        for (place, t, total) in credited {
            let (Some(unit), Some(tax_type)) = (self.units.get(place), self.tax_types.get(t)) else { continue };
            let (kind, code) = unit_key(unit);
            tax_types.insert((kind, code, tax_type.name().to_string()), total);
        }
        let late_unshared = s.unshared.iter().filter(|u| u.period != s.period).map(|u| u.row);
        self.late.extend(late_unshared);
        let late_rows = self
            .late
            .into_iter()
            .map(|i| ledger.get(i).copied().ok_or_else(|| Error::Invalid("调整记录对应的台账行不存在".into())))
            .collect::<Result<_>>()?;
        Ok(Written { entries, tax_types, late_rows, core_entries: self.core_entries })
    }
}

/// Executes the statement `build` makes of each chunk of `items`, building the next while the
/// database executes the one before (SQLite's worker thread, or the PostgreSQL server): both cores.
async fn insert_chunks<T>(
    tx: &mut Tx<'_>,
    items: &[T],
    chunk: usize,
    build: impl Fn(&[T]) -> Result<Sql>,
) -> Result<()> {
    let backend = tx.backend;
    let mut parts = items.chunks(chunk.max(1));
    let mut next = parts.next().map(&build).transpose()?;
    while let Some(q) = next.take() {
        let q = q.into_backend(backend);
        let mut run = std::pin::pin!(q.query().execute(&mut *tx.tx));
        // The first poll hands the statement to the driver; the next one is built meanwhile.
        let first = std::future::poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await;
        next = parts.next().map(&build).transpose()?;
        match first {
            Poll::Ready(done) => done?,
            Poll::Pending => run.await?,
        };
    }
    Ok(())
}

/// Writes the entries, the per-tax-type amounts, the late rows and the unshared rows of settlement `id`.
pub(crate) async fn write(tx: &mut Tx<'_>, id: i64, w: &Written, s: &Settlement, ledger: &[i64]) -> Result<()> {
    let small = import_chunk(tx.backend);
    entries::insert(tx, id, &w.entries).await?;
    let types: Vec<_> = w.tax_types.iter().collect();
    insert_chunks(tx, &types, small, |part| {
        let mut q = Sql::new(
            "INSERT INTO settlement_tax_types (settlement_id, unit_kind, unit_code, tax_type, row_count, tax_fen, \
             debit_fen, amount_fen, adjustments_fen) VALUES ",
        );
        for (i, ((kind, code, tax_type), t)) in part.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.i64(id).push(", ").text(*kind).push(", ").text(code.clone()).push(", ").text(tax_type.clone());
            q.push(", ").i64(t.row_count).push(", ").i64(t.tax_fen).push(", ").i64(t.debit_fen);
            q.push(", ").i64(t.amount_fen).push(", ").i64(t.adjustments_fen).push(")");
        }
        Ok(q)
    })
    .await?;
    insert_chunks(tx, &w.late_rows, small, |part| {
        let mut q = Sql::new("INSERT INTO settlement_late_rows (settlement_id, ledger_id) VALUES ");
        for (i, ledger_id) in part.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.i64(id).push(", ").i64(*ledger_id).push(")");
        }
        Ok(q)
    })
    .await?;
    insert_chunks(tx, &s.unshared, small, |part| {
        let mut q = Sql::new(
            "INSERT INTO settlement_unshared (settlement_id, ledger_id, shareable_fen, reason, adjusts_period) VALUES ",
        );
        for (i, u) in part.iter().enumerate() {
            let l = ledger.get(u.row).ok_or_else(|| Error::Invalid("未分成记录对应的台账行不存在".into()))?;
            q.push(if i == 0 { "(" } else { ", (" });
            q.i64(id).push(", ").i64(*l).push(", ");
            q.bind(Arg::OptI64(u.shareable.map(|f| f.fen()))).push(", ").text(u.reason.clone()).push(", ");
            q.bind(Arg::OptText((u.period != s.period).then(|| u.period.to_string()))).push(")");
        }
        Ok(q)
    })
    .await
}

/// Removes what an unconfirmed settlement wrote (before a re-draft or with a withdrawn import); a
/// confirmed settlement's rows are never touched.
pub(crate) async fn discard(tx: &mut Tx<'_>, id: i64) -> Result<()> {
    for sql in [
        "DELETE FROM settlement_entries WHERE settlement_id = $1 AND settlement_id IN \
         (SELECT id FROM settlements WHERE status <> 'confirmed')",
        "DELETE FROM settlement_tax_types WHERE settlement_id = $1 AND settlement_id IN \
         (SELECT id FROM settlements WHERE status <> 'confirmed')",
        "DELETE FROM settlement_late_rows WHERE settlement_id = $1 AND settlement_id IN \
         (SELECT id FROM settlements WHERE status <> 'confirmed')",
        "DELETE FROM settlement_unshared WHERE settlement_id = $1 AND settlement_id IN \
         (SELECT id FROM settlements WHERE status <> 'confirmed')",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx.tx).await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dianxiaoer_core::revenue::agreement::Agreements;
    use dianxiaoer_core::revenue::party::{DepartmentId, HostHistory, TownCode};
    use dianxiaoer_core::revenue::party::{Project, ProjectId};
    use dianxiaoer_core::revenue::settlement::{EnterpriseProjects, SettlementInput, settle, settle_with};
    use dianxiaoer_core::revenue::tax::RetainedShareTable;
    use dianxiaoer_core::revenue::tax::TaxRow;

    #[test]
    fn lines_sum_each_project_s_credits_per_unit() {
        let m = |s: &str| Period::parse(s).unwrap();
        let town = TownCode::parse("371323103").unwrap();
        let code = dianxiaoer_core::credit_code::CreditCode::parse("9137132352601815X3").unwrap();
        let project = Project::new(
            ProjectId::new(5),
            Some(Unit::Department(DepartmentId::new(3))),
            HostHistory::since(town, m("2020-01")),
            Agreements::default(),
        );
        let links = EnterpriseProjects::new(vec![(code, ProjectId::new(5), 1)]).unwrap();
        let row = |i: usize, fen: i64| TaxRow {
            row: i,
            credit_code: code,
            taxpayer_name: None,
            tax_type: dianxiaoer_core::revenue::tax::TaxType::ValueAdded,
            tax_item: None,
            tax_period: dianxiaoer_core::revenue::period::TaxPeriod::months(m("2022-01"), m("2022-01")).unwrap(),
            period: m("2022-01"),
            amount: dianxiaoer_core::money::Fen::from_fen(fen),
            retained_share: dianxiaoer_core::revenue::tax::RetainedShare::from_basis_points(10_000).ok(),
            voucher_kind: dianxiaoer_core::revenue::tax::VoucherKind::Receipt,
            received_on: None,
            ticket: None,
        };
        // A refund, and a fen too small to reach the host town and the zone.
        let rows = [row(0, 1001), row(1, -5), row(2, 1)];
        let ledger = [70, 71, 72];
        let mut sums = Sums::default();
        let input = SettlementInput {
            period: m("2022-01"),
            confirmed: &BTreeSet::new(),
            projects: std::slice::from_ref(&project),
            links: &links,
            retained: &RetainedShareTable::default(),
            rows: &rows,
        };
        let s = settle_with(&input, |e| sums.add(e, 9)).unwrap();
        let out = sums.finish(&s, &ledger).unwrap();
        assert_eq!(out.entries.len(), 1);
        let e = &out.entries[0];
        assert_eq!((e.project_id, e.enterprise_id, e.adjusts.as_deref(), &*e.ratio), (5, 9, None, "5:3:2"));
        assert_eq!(e.debit_fen, 997);
        let got: Vec<(&str, [i64; 5])> =
            e.slots.iter().map(|s| (&*s.unit, [s.weight, s.row_count, s.tax_fen, s.debit_fen, s.amount_fen])).collect();
        assert_eq!(
            got,
            [
                ("dept:3", [5, 3, 997, 997, 501 - 3 + 1]),
                ("town:371323103", [3, 2, 996, 996, 300 - 1]),
                ("zone", [2, 2, 996, 996, 200 - 1]),
            ]
        );
        assert_eq!(e.slots.iter().map(|s| s.amount_fen).sum::<i64>(), s.total.fen());
        assert_eq!((out.core_entries, settle(&input).unwrap().entries.len()), (3, 3));
        let vat = &out.tax_types[&("town", "371323103".to_string(), "增值税".to_string())];
        assert_eq!((vat.row_count, vat.amount_fen, vat.adjustments_fen), (2, 299, 0));
        assert!(out.late_rows.is_empty());
    }
}
