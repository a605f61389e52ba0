//! What a drafted settlement writes: the core's per-row entries summed per project and month into
//! credit lines (`settlement_lines`), a unit's amounts per tax type (`settlement_tax_types`), the rows
//! left unshared, and the late rows of confirmed months it holds (`settlement_late_rows`).
//!
//! The rounding stays per ledger row in the core (retained share half away from zero, largest
//! remainder per row); only the results are summed, so every unit's total is the same to the fen as
//! one line per row and unit would give, at a quarter of the lines (issue 5, Measure).

use crate::enterprise_import::import_chunk;
use crate::error::{Error, Result};
use crate::revenue_settle_input::{self as input, LedgerInput, unit_key};
use crate::sql::{Arg, Sql};
use crate::{Backend, Tx};
use dianxiaoer_core::revenue::party::{Project, ProjectId, Unit};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::settlement::Settlement;
use dianxiaoer_core::revenue::tax::{TaxRow, TaxType};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One credit line to write: the columns of `settlement_lines` after `settlement_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub entry_no: i64,
    pub project_id: i64,
    pub enterprise_id: i64,
    pub adjusts: Option<String>,
    pub ratio: String,
    pub entry_debit_fen: i64,
    pub unit_kind: &'static str,
    pub unit_code: String,
    pub weight: i64,
    pub row_count: i64,
    pub tax_fen: i64,
    pub debit_fen: i64,
    pub amount_fen: i64,
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
    pub lines: Vec<Line>,
    /// (unit kind, unit code, tax type) → amounts.
    pub tax_types: BTreeMap<(&'static str, String, String), TaxTypeTotal>,
    /// Ledger ids of rows of confirmed months settled here (as entries or unshared).
    pub late_rows: Vec<i64>,
}

fn add(a: &mut i64, b: i64) -> Result<()> {
    *a = a.checked_add(b).ok_or_else(|| Error::Invalid("金额合计超出范围".into()))?;
    Ok(())
}

/// One entry being summed: the ratio in force, its debit, and per unit credited (in the split's
/// order) the weight and the sums [rows, tax, debit, amount].
struct Group {
    ratio: String,
    debit: i64,
    units: Vec<(Unit, i64, [i64; 4])>,
}

/// Sums the core's entries into one balanced entry per (project, enterprise, month adjusted), with a
/// line per unit credited, carrying the ratio and weights in force for the rows' own month.
pub(crate) fn written(
    s: &Settlement,
    projects: &[Project],
    ledger: &[LedgerInput],
    rows: &[TaxRow],
) -> Result<Written> {
    let by_id: HashMap<ProjectId, &Project> = projects.iter().map(|p| (p.id(), p)).collect();
    let mut groups: HashMap<(i64, i64, Option<Period>), Group> = HashMap::new();
    let mut tax_types: HashMap<(&Unit, &TaxType), TaxTypeTotal> = HashMap::new();
    for e in &s.entries {
        let l = ledger.get(e.row).ok_or_else(|| Error::Invalid("结算分录对应的台账行不存在".into()))?;
        let tax = rows.get(e.row).map(|r| r.amount.fen()).unwrap_or_default();
        let group = match groups.entry((e.project.get(), l.enterprise_id, e.adjusts)) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let project = by_id.get(&e.project).ok_or_else(|| Error::Invalid("结算分录对应的项目不存在".into()))?;
                let b = project.beneficiaries(e.adjusts.unwrap_or(e.period)).map_err(input::bad)?;
                let units = b.shares().iter().map(|(u, w)| (u.clone(), i64::from(*w), [0; 4])).collect();
                v.insert(Group { ratio: b.ratio().to_string(), debit: 0, units })
            }
        };
        add(&mut group.debit, e.debit.fen())?;
        for (unit, amount) in &e.credits {
            let i = match group.units.iter().position(|(u, ..)| u == unit) {
                Some(i) => i,
                None => {
                    group.units.push((unit.clone(), 0, [0; 4]));
                    group.units.len() - 1
                }
            };
            if let Some((_, _, sums)) = group.units.get_mut(i) {
                sums[0] += 1;
                add(&mut sums[1], tax)?;
                add(&mut sums[2], e.debit.fen())?;
                add(&mut sums[3], amount.fen())?;
            }
            let t = tax_types.entry((unit, &e.tax_type)).or_default();
            t.row_count += 1;
            add(&mut t.tax_fen, tax)?;
            add(&mut t.debit_fen, e.debit.fen())?;
            add(&mut t.amount_fen, amount.fen())?;
            if e.adjusts.is_some() {
                add(&mut t.adjustments_fen, amount.fen())?;
            }
        }
    }
    let mut out = Written::default();
    let mut keys: Vec<(i64, i64, Option<Period>)> = groups.keys().copied().collect();
    keys.sort_unstable();
    // Per unit, so that the lines go in in the order of the statements' index and its pages fill
    // one after another.
    let mut by_unit: HashMap<Unit, Vec<Line>> = HashMap::new();
    for (n, key) in keys.iter().enumerate() {
        let Some(group) = groups.remove(key) else { continue };
        let (project_id, enterprise_id, adjusts) = *key;
        let adjusts = adjusts.map(|p| p.to_string());
        for (unit, weight, [row_count, tax_fen, debit_fen, amount_fen]) in group.units {
            if row_count == 0 {
                continue;
            }
            let (unit_kind, unit_code) = unit_key(&unit);
            by_unit.entry(unit).or_default().push(Line {
                entry_no: n as i64 + 1,
                project_id,
                enterprise_id,
                adjusts: adjusts.clone(),
                ratio: group.ratio.clone(),
                entry_debit_fen: group.debit,
                unit_kind,
                unit_code,
                weight,
                row_count,
                tax_fen,
                debit_fen,
                amount_fen,
            });
        }
    }
    let mut units: Vec<(&'static str, String, Vec<Line>)> =
        by_unit.into_iter().map(|(u, lines)| (unit_key(&u).0, unit_key(&u).1, lines)).collect();
    units.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out.lines = units.into_iter().flat_map(|(.., lines)| lines).collect();
    out.tax_types = tax_types
        .into_iter()
        .map(|((unit, tax_type), t)| {
            let (kind, code) = unit_key(unit);
            ((kind, code, tax_type.name().to_string()), t)
        })
        .collect();
    let late = s.entries.iter().filter(|e| e.adjusts.is_some()).map(|e| e.row);
    let late_unshared = s.unshared.iter().filter(|u| u.period != s.period).map(|u| u.row);
    out.late_rows = late
        .chain(late_unshared)
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .map(|i| ledger.get(i).map(|l| l.id).ok_or_else(|| Error::Invalid("调整记录对应的台账行不存在".into())))
        .collect::<Result<_>>()?;
    Ok(out)
}

/// Lines per statement: positional parameters on SQLite bind in linear time (sql.rs `for_backend`), so
/// larger statements only save round trips (512 × 14 values, under SQLite's 32,766).
fn lines_chunk(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 512,
        Backend::Postgres => import_chunk(backend),
    }
}

/// Writes the lines, the per-tax-type amounts, the late rows and the unshared rows of settlement `id`.
pub(crate) async fn write(tx: &mut Tx<'_>, id: i64, w: &Written, s: &Settlement, ledger: &[LedgerInput]) -> Result<()> {
    for part in w.lines.chunks(lines_chunk(tx.backend)) {
        let mut q = Sql::new(
            "INSERT INTO settlement_lines (settlement_id, entry_no, project_id, enterprise_id, adjusts_period, ratio, \
             entry_debit_fen, unit_kind, unit_code, weight, row_count, tax_fen, debit_fen, amount_fen) VALUES ",
        );
        for (i, l) in part.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.i64(id).push(", ").i64(l.entry_no).push(", ").i64(l.project_id).push(", ").i64(l.enterprise_id);
            q.push(", ").bind(Arg::OptText(l.adjusts.clone())).push(", ").text(l.ratio.clone());
            q.push(", ").i64(l.entry_debit_fen).push(", ").text(l.unit_kind).push(", ").text(l.unit_code.clone());
            q.push(", ").i64(l.weight).push(", ").i64(l.row_count).push(", ").i64(l.tax_fen);
            q.push(", ").i64(l.debit_fen).push(", ").i64(l.amount_fen).push(")");
        }
        q.into_backend(tx.backend).query().execute(&mut *tx.tx).await?;
    }
    let types: Vec<_> = w.tax_types.iter().collect();
    for part in types.chunks(import_chunk(tx.backend)) {
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
        q.into_backend(tx.backend).query().execute(&mut *tx.tx).await?;
    }
    for part in w.late_rows.chunks(import_chunk(tx.backend)) {
        let mut q = Sql::new("INSERT INTO settlement_late_rows (settlement_id, ledger_id) VALUES ");
        for (i, ledger_id) in part.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.i64(id).push(", ").i64(*ledger_id).push(")");
        }
        q.into_backend(tx.backend).query().execute(&mut *tx.tx).await?;
    }
    for part in s.unshared.chunks(import_chunk(tx.backend)) {
        let mut q = Sql::new(
            "INSERT INTO settlement_unshared (settlement_id, ledger_id, shareable_fen, reason, adjusts_period) VALUES ",
        );
        for (i, u) in part.iter().enumerate() {
            let l = ledger.get(u.row).ok_or_else(|| Error::Invalid("未分成记录对应的台账行不存在".into()))?;
            q.push(if i == 0 { "(" } else { ", (" });
            q.i64(id).push(", ").i64(l.id).push(", ");
            q.bind(Arg::OptI64(u.shareable.map(|f| f.fen()))).push(", ").text(u.reason.clone()).push(", ");
            q.bind(Arg::OptText((u.period != s.period).then(|| u.period.to_string()))).push(")");
        }
        q.into_backend(tx.backend).query().execute(&mut *tx.tx).await?;
    }
    Ok(())
}

/// Removes what an unconfirmed settlement wrote (before a re-draft or with a withdrawn import); a
/// confirmed settlement's rows are never touched.
pub(crate) async fn discard(tx: &mut Tx<'_>, id: i64) -> Result<()> {
    for sql in [
        "DELETE FROM settlement_lines WHERE settlement_id = $1 AND settlement_id IN \
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
    use dianxiaoer_core::revenue::settlement::{EnterpriseProjects, SettlementInput, settle};
    use dianxiaoer_core::revenue::tax::RetainedShareTable;

    #[test]
    fn lines_sum_each_project_s_credits_per_unit() {
        let m = |s: &str| Period::parse(s).unwrap();
        let town = TownCode::parse("371323103").unwrap();
        let code = dianxiaoer_core::credit_code::CreditCode::parse("9137132352601815X3").unwrap();
        let project = Project::new(
            ProjectId::new(5),
            Some(Unit::Department(DepartmentId::new(3))),
            HostHistory::since(town.clone(), m("2020-01")),
            Agreements::default(),
        );
        let links = EnterpriseProjects::new(vec![(code.clone(), ProjectId::new(5), 1)]).unwrap();
        let row = |i: usize, fen: i64| TaxRow {
            row: i,
            credit_code: code.clone(),
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
        let s = settle(&SettlementInput {
            period: m("2022-01"),
            confirmed: &BTreeSet::new(),
            projects: std::slice::from_ref(&project),
            links: &links,
            retained: &RetainedShareTable::default(),
            rows: &rows,
        })
        .unwrap();
        let ledger = [70, 71, 72].map(|id| LedgerInput { id, enterprise_id: 9 });
        let out = written(&s, &[project], &ledger, &rows).unwrap();
        let got: Vec<(&str, [i64; 7])> = out
            .lines
            .iter()
            .map(|l| {
                let sums = [l.row_count, l.tax_fen, l.debit_fen, l.amount_fen];
                (l.unit_kind, [l.entry_no, l.weight, sums[0], sums[1], sums[2], sums[3], l.entry_debit_fen])
            })
            .collect();
        assert_eq!(
            got,
            [
                ("department", [1, 5, 3, 997, 997, 501 - 3 + 1, 997]),
                ("town", [1, 3, 2, 996, 996, 300 - 1, 997]),
                ("zone", [1, 2, 2, 996, 996, 200 - 1, 997]),
            ]
        );
        assert_eq!(out.lines.iter().map(|l| l.amount_fen).sum::<i64>(), s.total.fen());
        assert!(out.lines.iter().all(|l| l.ratio == "5:3:2" && l.adjusts.is_none() && l.enterprise_id == 9));
        let vat = &out.tax_types[&("town", "371323103".to_string(), "增值税".to_string())];
        assert_eq!((vat.row_count, vat.amount_fen, vat.adjustments_fen), (2, 299, 0));
        assert!(out.late_rows.is_empty());
    }
}
