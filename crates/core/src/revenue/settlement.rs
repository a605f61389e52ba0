//! Settlement of a period: every shareable amount split among introducer, host town and zone, as
//! balanced ledger entries (DESIGN.md principle 5: exact money, confirmed settlements never edited).
//!
//! For each tax row settled in the period:
//! 1. the shareable amount is the county-retained part: the row's 预算分配比例, else the configured share
//!    for its tax type and month ([`RetainedShareTable`]). An `Other` 征收项目 (教育费附加 …) is shared
//!    only when configured, with the configured share; a row with no share known is not shared;
//! 2. the enterprise's projects receive it: an enterprise with no project is not shared (reported); an
//!    enterprise with several projects divides it by the link weights (e.g. each project's part of the
//!    enterprise's investment), by largest remainder;
//! 3. each project's part is split by the agreement and host town in force in the row's period
//!    ([`Project::beneficiaries`]) — an entry debits it from the pool of tax to share (待分成税收) and
//!    credits each unit; negative amounts (refunds, corrections) give red-letter (红字) entries that are
//!    the exact negation of the payment's.
//!
//! Every row of the period ends up either in an entry or in [`Settlement::unshared`], with the reason.
//! A row whose period is already confirmed is an adjustment: it is settled in the next open period, and
//! its entries say which period they adjust.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::credit_code::CreditCode;
use crate::money::Fen;

use super::RevenueError;
use super::party::{Beneficiaries, Project, ProjectId, Unit};
use super::period::Period;
use super::split::split_into;
use super::tax::{RetainedShareTable, TaxRow, TaxType};

/// An enterprise's link to a project; `weight` divides its tax when it has several projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProjectLink {
    pub project: ProjectId,
    pub weight: u32,
}

/// Which projects each enterprise's tax belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnterpriseProjects(HashMap<CreditCode, Vec<ProjectLink>>);

impl EnterpriseProjects {
    /// Links `(enterprise, project, weight)`; a weight must be at least 1 and a pair appear once.
    pub fn new(links: Vec<(CreditCode, ProjectId, u32)>) -> Result<EnterpriseProjects, RevenueError> {
        let mut map: HashMap<CreditCode, Vec<ProjectLink>> =
            HashMap::with_capacity_and_hasher(links.len(), Default::default());
        for (code, project, weight) in links {
            if weight == 0 {
                return Err(RevenueError::new(format!(
                    "企业 {code} 与项目（编号 {}）的分配权重应至少为 1",
                    project.get()
                )));
            }
            let list = map.entry(code).or_default();
            if list.iter().any(|l| l.project == project) {
                return Err(RevenueError::new(format!("企业 {code} 与项目（编号 {}）重复关联", project.get())));
            }
            list.push(ProjectLink { project, weight });
        }
        Ok(EnterpriseProjects(map))
    }

    pub fn links(&self, code: &CreditCode) -> &[ProjectLink] {
        self.0.get(code).map_or(&[], Vec::as_slice)
    }
}

/// The period in which tax of `original` is settled: `original` while it is open; once confirmed, the
/// first later month not confirmed ("the next open period"), where it is booked as an adjustment.
pub fn settlement_period_for(original: Period, confirmed: &BTreeSet<Period>) -> Period {
    let mut p = original;
    while confirmed.contains(&p) {
        p = p.next();
    }
    p
}

/// What a settlement needs: the period to settle, the periods already confirmed, and the data.
#[derive(Debug, Clone, Copy)]
pub struct SettlementInput<'a> {
    pub period: Period,
    pub confirmed: &'a BTreeSet<Period>,
    pub projects: &'a [Project],
    pub links: &'a EnterpriseProjects,
    pub retained: &'a RetainedShareTable,
    pub rows: &'a [TaxRow],
}

/// One balanced entry: `debit` out of the pool of tax to share, `credits` to the units. Negative
/// amounts are red-letter entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// The settlement period the entry is dated to.
    pub period: Period,
    /// For an adjustment: the confirmed period whose tax it corrects.
    pub adjusts: Option<Period>,
    /// Row number of the tax row in its sheet.
    pub row: usize,
    pub credit_code: CreditCode,
    pub tax_type: TaxType,
    pub project: ProjectId,
    pub debit: Fen,
    pub credits: Vec<(Unit, Fen)>,
}

impl LedgerEntry {
    pub fn is_balanced(&self) -> bool {
        self.credits.iter().map(|(_, f)| i128::from(f.fen())).sum::<i128>() == i128::from(self.debit.fen())
    }
}

/// A row (or one project's part of it) that is not shared, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unshared {
    pub row: usize,
    pub credit_code: CreditCode,
    pub tax_type: TaxType,
    /// The row's own period.
    pub period: Period,
    /// The county-retained amount left unshared, when known.
    pub shareable: Option<Fen>,
    pub reason: String,
}

/// The result of settling a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub period: Period,
    pub entries: Vec<LedgerEntry>,
    /// Credits per unit over all entries.
    pub totals: BTreeMap<Unit, Fen>,
    /// Debits over all entries.
    pub total: Fen,
    pub unshared: Vec<Unshared>,
    /// Rows given that settle in another period: (row, that period).
    pub other_periods: Vec<(usize, Period)>,
}

impl Settlement {
    /// Every entry balances and the per-unit totals add up to the total debit.
    pub fn is_balanced(&self) -> bool {
        let debits: i128 = self.entries.iter().map(|e| i128::from(e.debit.fen())).sum();
        let totals: i128 = self.totals.values().map(|f| i128::from(f.fen())).sum();
        self.entries.iter().all(LedgerEntry::is_balanced) && debits == i128::from(self.total.fen()) && totals == debits
    }
}

fn add(a: Fen, b: Fen) -> Result<Fen, RevenueError> {
    a.checked_add(b).ok_or_else(|| RevenueError::new("金额合计超出范围"))
}

/// Settles `input.period`; see the module docs. Fails when that period is already confirmed, when an
/// enterprise is linked to a project not given, or when a sum overflows.
pub fn settle(input: &SettlementInput<'_>) -> Result<Settlement, RevenueError> {
    let mut entries = Vec::new();
    let mut out = settle_with(input, |e| {
        entries.push(e.to_entry());
        Ok::<(), RevenueError>(())
    })?;
    out.entries = entries;
    Ok(out)
}

/// One balanced entry as [`settle_with`] hands it over, borrowing from the input: `debit` of `row`'s
/// shareable amount for `project`, credited to the beneficiaries' units by `parts`, share by share.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    pub period: Period,
    pub adjusts: Option<Period>,
    pub row: &'a TaxRow,
    pub project: ProjectId,
    pub debit: Fen,
    pub beneficiaries: &'a Beneficiaries,
    /// One per share of `beneficiaries`, zeros included.
    pub parts: &'a [Fen],
}

impl EntryRef<'_> {
    /// The units credited and their amounts, zeros left out.
    pub fn credits(&self) -> impl Iterator<Item = (&Unit, Fen)> {
        self.beneficiaries
            .shares()
            .iter()
            .map(|(u, _)| u)
            .zip(self.parts.iter().copied())
            .filter(|(_, f)| *f != Fen::ZERO)
    }

    pub fn to_entry(&self) -> LedgerEntry {
        LedgerEntry {
            period: self.period,
            adjusts: self.adjusts,
            row: self.row.row,
            credit_code: self.row.credit_code,
            tax_type: self.row.tax_type.clone(),
            project: self.project,
            debit: self.debit,
            credits: self.credits().map(|(u, f)| (*u, f)).collect(),
        }
    }
}

/// A project's beneficiaries in one month, with their weights and their units' places in the totals.
struct Split {
    beneficiaries: Beneficiaries,
    weights: [u32; 3],
    /// Per share of `beneficiaries`, the unit's place in the settler's units.
    units: [usize; 3],
    len: usize,
}

impl Split {
    fn weights(&self) -> &[u32] {
        self.weights.get(..self.len).unwrap_or_default()
    }

    fn units(&self) -> &[usize] {
        self.units.get(..self.len).unwrap_or_default()
    }
}

/// [`settle`], handing each entry to `on_entry` instead of keeping it: the returned settlement has no
/// `entries`.
pub fn settle_with<E: From<RevenueError>>(
    input: &SettlementInput<'_>,
    mut on_entry: impl FnMut(&EntryRef<'_>) -> Result<(), E>,
) -> Result<Settlement, E> {
    let mut settler = Settler::new(input)?;
    for row in input.rows {
        settler.row(row, &mut on_entry)?;
    }
    Ok(settler.finish())
}

/// A settlement made row by row, as the rows arrive (a draft settles 400,000 rows at 10⁵ enterprises
/// while the database still reads them). Each project's beneficiaries are worked out once per month,
/// and the per-unit totals are kept by position, not looked up by unit. `input.rows` is not read; the
/// rows not shared are listed in the order the rows came.
pub struct Settler<'a> {
    period: Period,
    confirmed: &'a BTreeSet<Period>,
    links: &'a EnterpriseProjects,
    retained: &'a RetainedShareTable,
    projects: HashMap<ProjectId, &'a Project>,
    splits: HashMap<(ProjectId, Period), Result<Split, String>>,
    units: Vec<Unit>,
    unit_index: HashMap<Unit, usize>,
    /// Per unit: its total, and whether it was credited (a non-zero amount) at all.
    totals: Vec<(Fen, bool)>,
    out: Settlement,
    link_parts: Vec<Fen>,
    parts: Vec<Fen>,
}

impl<'a> Settler<'a> {
    /// Fails when the period is already confirmed.
    pub fn new(input: &SettlementInput<'a>) -> Result<Settler<'a>, RevenueError> {
        let period = input.period;
        if input.confirmed.contains(&period) {
            return Err(RevenueError::new(format!(
                "{}已确认，不能重新结算；更正请作为调整计入下一未确认期",
                period.label()
            )));
        }
        Ok(Settler {
            period,
            confirmed: input.confirmed,
            links: input.links,
            retained: input.retained,
            projects: input.projects.iter().map(|p| (p.id(), p)).collect(),
            splits: HashMap::default(),
            units: Vec::new(),
            unit_index: HashMap::default(),
            totals: Vec::new(),
            out: Settlement {
                period,
                entries: Vec::new(),
                totals: BTreeMap::new(),
                total: Fen::ZERO,
                unshared: Vec::new(),
                other_periods: Vec::new(),
            },
            link_parts: Vec::new(),
            parts: Vec::new(),
        })
    }

    /// Settles one row: its entries go to `on_entry`; a row not shared is kept with the reason.
    pub fn row<E: From<RevenueError>>(
        &mut self,
        row: &TaxRow,
        mut on_entry: impl FnMut(&EntryRef<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let period = self.period;
        let out = &mut self.out;
        let settles_in = settlement_period_for(row.period, self.confirmed);
        if settles_in != period {
            out.other_periods.push((row.row, settles_in));
            return Ok(());
        }
        let unshared = |shareable: Option<Fen>, reason: String| Unshared {
            row: row.row,
            credit_code: row.credit_code,
            tax_type: row.tax_type.clone(),
            period: row.period,
            shareable,
            reason,
        };
        let configured = || self.retained.lookup(&row.tax_type, row.period);
        let share = if row.tax_type.is_other() { configured() } else { row.retained_share.or_else(configured) };
        let Some(share) = share else {
            let reason = if row.tax_type.is_other() {
                format!("“{}”不是分成税种，未配置其县级留成比例", row.tax_type)
            } else {
                format!("表中没有预算分配比例，也未配置{}在{}的县级留成比例", row.tax_type, row.period.label())
            };
            out.unshared.push(unshared(None, reason));
            return Ok(());
        };
        let shareable = share.shareable(row.amount);
        if shareable == Fen::ZERO {
            out.unshared.push(unshared(Some(shareable), "县级留成部分为 0，无需分成".to_owned()));
            return Ok(());
        }
        let links = self.links.links(&row.credit_code);
        if links.is_empty() {
            out.unshared.push(unshared(Some(shareable), "企业未关联招商项目，不参与分成".to_owned()));
            return Ok(());
        }
        if let [_] = links {
            self.link_parts.clear();
            self.link_parts.push(shareable);
        } else {
            let weights: Vec<u32> = links.iter().map(|l| l.weight).collect();
            split_into(shareable, &weights, &mut self.link_parts).map_err(E::from)?;
        }
        for (link, &part) in links.iter().zip(&self.link_parts) {
            let (units, unit_index, totals) = (&mut self.units, &mut self.unit_index, &mut self.totals);
            // A project's split is worked out at its first row of a month, the project looked up then.
            let found = match self.splits.entry((link.project, row.period)) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => {
                    let project = self.projects.get(&link.project).ok_or_else(|| {
                        E::from(RevenueError::new(format!(
                            "企业 {} 关联的项目（编号 {}）不存在",
                            row.credit_code,
                            link.project.get()
                        )))
                    })?;
                    v.insert(project.beneficiaries(row.period).map_err(|e| e.message).map(|b| {
                        let mut split = Split { beneficiaries: b, weights: [0; 3], units: [0; 3], len: 0 };
                        for (i, (u, w)) in b.shares().iter().enumerate().take(3) {
                            let place = *unit_index.entry(*u).or_insert_with(|| {
                                units.push(*u);
                                totals.push((Fen::ZERO, false));
                                units.len() - 1
                            });
                            if let (Some(wi), Some(ui)) = (split.weights.get_mut(i), split.units.get_mut(i)) {
                                (*wi, *ui) = (*w, place);
                                split.len = i + 1;
                            }
                        }
                        split
                    }))
                }
            };
            if part == Fen::ZERO {
                continue;
            }
            let split = match found {
                Ok(s) => &*s,
                Err(message) => {
                    out.unshared.push(unshared(Some(part), message.clone()));
                    continue;
                }
            };
            split_into(part, split.weights(), &mut self.parts).map_err(E::from)?;
            for (&place, &amount) in split.units().iter().zip(&self.parts) {
                if let Some((total, credited)) = totals.get_mut(place).filter(|_| amount != Fen::ZERO) {
                    *total = add(*total, amount).map_err(E::from)?;
                    *credited = true;
                }
            }
            out.total = add(out.total, part).map_err(E::from)?;
            on_entry(&EntryRef {
                period,
                adjusts: (row.period != period).then_some(row.period),
                row,
                project: link.project,
                debit: part,
                beneficiaries: &split.beneficiaries,
                parts: &self.parts,
            })?;
        }
        Ok(())
    }

    /// The settlement of the rows given, without `entries` (they went to `on_entry`).
    pub fn finish(self) -> Settlement {
        let mut out = self.out;
        // Units credited at least once, as when the totals were kept per credit.
        out.totals = self
            .units
            .into_iter()
            .zip(self.totals)
            .filter(|(_, (_, credited))| *credited)
            .map(|(u, (f, _))| (u, f))
            .collect();
        out
    }
}

#[cfg(test)]
#[path = "settlement_tests.rs"]
mod tests;
