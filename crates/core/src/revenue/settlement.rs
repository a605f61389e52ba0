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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::credit_code::CreditCode;
use crate::money::Fen;

use super::RevenueError;
use super::party::{Project, ProjectId, Unit};
use super::period::Period;
use super::split::split;
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
        let mut map: HashMap<CreditCode, Vec<ProjectLink>> = HashMap::with_capacity(links.len());
        for (code, project, weight) in links {
            if weight == 0 {
                return Err(RevenueError::new(format!(
                    "企业 {code} 与项目（编号 {}）的分配权重应至少为 1",
                    project.get()
                )));
            }
            let list = map.entry(code.clone()).or_default();
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
    let period = input.period;
    if input.confirmed.contains(&period) {
        return Err(RevenueError::new(format!(
            "{}已确认，不能重新结算；更正请作为调整计入下一未确认期",
            period.label()
        )));
    }
    let projects: HashMap<ProjectId, &Project> = input.projects.iter().map(|p| (p.id(), p)).collect();
    let mut out = Settlement {
        period,
        entries: Vec::new(),
        totals: BTreeMap::new(),
        total: Fen::ZERO,
        unshared: Vec::new(),
        other_periods: Vec::new(),
    };
    for row in input.rows {
        let settles_in = settlement_period_for(row.period, input.confirmed);
        if settles_in != period {
            out.other_periods.push((row.row, settles_in));
            continue;
        }
        let unshared = |shareable: Option<Fen>, reason: String| Unshared {
            row: row.row,
            credit_code: row.credit_code.clone(),
            tax_type: row.tax_type.clone(),
            period: row.period,
            shareable,
            reason,
        };
        let configured = input.retained.lookup(&row.tax_type, row.period);
        let share = if row.tax_type.is_other() { configured } else { row.retained_share.or(configured) };
        let Some(share) = share else {
            let reason = if row.tax_type.is_other() {
                format!("“{}”不是分成税种，未配置其县级留成比例", row.tax_type)
            } else {
                format!("表中没有预算分配比例，也未配置{}在{}的县级留成比例", row.tax_type, row.period.label())
            };
            out.unshared.push(unshared(None, reason));
            continue;
        };
        let shareable = share.shareable(row.amount);
        if shareable == Fen::ZERO {
            out.unshared.push(unshared(Some(shareable), "县级留成部分为 0，无需分成".to_owned()));
            continue;
        }
        let links = input.links.links(&row.credit_code);
        if links.is_empty() {
            out.unshared.push(unshared(Some(shareable), "企业未关联招商项目，不参与分成".to_owned()));
            continue;
        }
        let weights: Vec<u32> = links.iter().map(|l| l.weight).collect();
        for (link, part) in links.iter().zip(split(shareable, &weights)?) {
            let project = projects.get(&link.project).ok_or_else(|| {
                RevenueError::new(format!("企业 {} 关联的项目（编号 {}）不存在", row.credit_code, link.project.get()))
            })?;
            if part == Fen::ZERO {
                continue;
            }
            let beneficiaries = match project.beneficiaries(row.period) {
                Ok(b) => b,
                Err(e) => {
                    out.unshared.push(unshared(Some(part), e.message));
                    continue;
                }
            };
            let parts = split(part, &beneficiaries.weights())?;
            let credits: Vec<(Unit, Fen)> = beneficiaries
                .shares()
                .iter()
                .map(|(u, _)| u.clone())
                .zip(parts)
                .filter(|(_, f)| *f != Fen::ZERO)
                .collect();
            for (unit, amount) in &credits {
                match out.totals.get_mut(unit) {
                    Some(total) => *total = add(*total, *amount)?,
                    None => {
                        out.totals.insert(unit.clone(), *amount);
                    }
                }
            }
            out.total = add(out.total, part)?;
            out.entries.push(LedgerEntry {
                period,
                adjusts: (row.period != period).then_some(row.period),
                row: row.row,
                credit_code: row.credit_code.clone(),
                tax_type: row.tax_type.clone(),
                project: link.project,
                debit: part,
                credits,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "settlement_tests.rs"]
mod tests;
