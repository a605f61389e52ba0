//! What a settlement reads, turned into the core's types inside the drafting transaction: the ledger
//! rows that settle in the month (its own, and rows of confirmed months no confirmed settlement holds),
//! every project with its introducer, host history and agreements, the enterprise–project links and
//! the configured retained shares.

use crate::Tx;
use crate::error::{Error, Result};
use crate::revenue_tax::lookup_chunk;
use crate::sql::Sql;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::RevenueError;
use dianxiaoer_core::revenue::agreement::{Agreement, Agreements, SharingRatio};
use dianxiaoer_core::revenue::party::{DepartmentId, HostHistory, HostSpell, Project, ProjectId, TownCode, Unit};
use dianxiaoer_core::revenue::period::{Period, TaxPeriod};
use dianxiaoer_core::revenue::settlement::EnterpriseProjects;
use dianxiaoer_core::revenue::tax::{
    RetainedShare, RetainedShareRule, RetainedShareTable, TaxRow, TaxType, VoucherKind,
};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) fn bad(e: RevenueError) -> Error {
    Error::Invalid(e.message)
}

pub(crate) fn period(raw: &str) -> Result<Period> {
    Period::parse(raw).map_err(bad)
}

fn opt_period(raw: Option<String>) -> Result<Option<Period>> {
    raw.as_deref().map(period).transpose()
}

/// A ledger row as the settlement sees it; `row` of the core's [`TaxRow`] is the index into the list.
#[derive(Debug, Clone)]
pub(crate) struct LedgerInput {
    pub id: i64,
    pub enterprise_id: i64,
}

/// The month's own rows, 1,024 to a result row as text (`id,enterprise,amount,basis points,refund,tax
/// type`, one per line; a tax type's name has no whitespace): a draft reads 400,000 rows at 10⁵
/// enterprises, and the driver hands every result row from its thread to ours on its own.
const OWN_ROWS: &str = "SELECT string_agg(CAST(id AS TEXT) || ',' || CAST(enterprise_id AS TEXT) || ',' || \
    CAST(amount_fen AS TEXT) || ',' || COALESCE(CAST(retained_basis_points AS TEXT), '') || ',' || \
    CASE WHEN voucher_kind = 'refund' THEN '1' ELSE '0' END || ',' || tax_type, '\n') \
    FROM tax_ledger WHERE period = $1 GROUP BY id / 1024";

/// Rows of confirmed months that no confirmed settlement holds: above their month's high-water mark
/// (imported after it was drafted) and not held as an adjustment by another confirmed settlement. The
/// core decides which of them settle in the month drafted (the next open month after theirs).
const LATE_ROWS: &str = "SELECT l.id, l.enterprise_id, l.tax_type, l.amount_fen, l.retained_basis_points, \
    CASE WHEN l.voucher_kind = 'refund' THEN 1 ELSE 0 END, l.period \
    FROM settlements s JOIN tax_ledger l ON l.period = s.period \
    WHERE s.status = 'confirmed' AND s.period < $1 AND l.id > s.ledger_through \
    AND NOT EXISTS (SELECT 1 FROM settlement_late_rows x JOIN settlements c ON c.id = x.settlement_id \
        WHERE x.ledger_id = l.id AND c.status = 'confirmed')";

/// The highest ledger id, recorded on a draft as the last row it saw: imports and drafts serialise on
/// the settlement lock, so every row at or below it was there when the draft read the ledger.
pub(crate) async fn ledger_through(tx: &mut Tx<'_>) -> Result<i64> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM tax_ledger").fetch_one(&mut *tx.tx).await?;
    Ok(max.unwrap_or(0))
}

/// The rows that may settle in `p`, in ledger order: the month's own rows and the late rows of
/// confirmed months. `codes` are the credit codes of the enterprises with projects (from
/// [`projects`]); others are looked up.
pub(crate) async fn ledger_rows(
    tx: &mut Tx<'_>,
    p: Period,
    codes: &HashMap<i64, CreditCode>,
) -> Result<(Vec<LedgerInput>, Vec<TaxRow>)> {
    let raw = |r: &sqlx::any::AnyRow, period: Period| -> Result<Raw> {
        Ok(Raw {
            id: r.try_get(0)?,
            enterprise_id: r.try_get(1)?,
            tax_type: r.try_get(2)?,
            amount: r.try_get(3)?,
            basis_points: r.try_get(4)?,
            refund: r.try_get::<i64, _>(5)? == 1,
            period,
        })
    };
    let mut list = Vec::new();
    let packed: Vec<String> = sqlx::query_scalar(OWN_ROWS).bind(p.to_string()).fetch_all(&mut *tx.tx).await?;
    for text in &packed {
        for line in text.split('\n') {
            list.push(unpack(line, p).ok_or_else(|| Error::Invalid("税收台账记录无法读取".into()))?);
        }
    }
    drop(packed);
    for r in sqlx::query(LATE_ROWS).bind(p.to_string()).fetch_all(&mut *tx.tx).await? {
        let month = period(&r.try_get::<String, _>(6)?)?;
        list.push(raw(&r, month)?);
    }
    list.sort_unstable_by_key(|r| r.id);
    let others = unlinked_codes(tx, &list.iter().map(|r| r.enterprise_id).collect(), codes).await?;
    let mut types: HashMap<String, TaxType> = HashMap::new();
    let mut ids = Vec::with_capacity(list.len());
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.into_iter().enumerate() {
        let code = codes
            .get(&r.enterprise_id)
            .or_else(|| others.get(&r.enterprise_id))
            .ok_or_else(|| Error::Invalid("台账行对应的企业不存在".into()))?;
        let tax_type = match types.get(&r.tax_type) {
            Some(t) => t.clone(),
            None => {
                let t = TaxType::parse(&r.tax_type).map_err(bad)?;
                types.insert(r.tax_type, t.clone());
                t
            }
        };
        let retained_share = r
            .basis_points
            .map(|b| RetainedShare::from_basis_points(u32::try_from(b).unwrap_or(u32::MAX)))
            .transpose()
            .map_err(bad)?;
        out.push(TaxRow {
            row: i,
            credit_code: code.clone(),
            taxpayer_name: None,
            tax_type,
            tax_item: None,
            tax_period: TaxPeriod::months(r.period, r.period).map_err(bad)?,
            period: r.period,
            amount: Fen::from_fen(r.amount),
            retained_share,
            voucher_kind: if r.refund { VoucherKind::Refund } else { VoucherKind::Receipt },
            received_on: None,
            ticket: None,
        });
        ids.push(LedgerInput { id: r.id, enterprise_id: r.enterprise_id });
    }
    Ok((ids, out))
}

/// A ledger row as read, before it becomes the core's [`TaxRow`].
struct Raw {
    id: i64,
    enterprise_id: i64,
    tax_type: String,
    amount: i64,
    basis_points: Option<i64>,
    refund: bool,
    period: Period,
}

/// One line of [`OWN_ROWS`].
fn unpack(line: &str, period: Period) -> Option<Raw> {
    let mut f = line.splitn(6, ',');
    let mut int = || f.next()?.parse::<i64>().ok();
    let (id, enterprise_id, amount) = (int()?, int()?, int()?);
    let bp = f.next()?;
    let basis_points = if bp.is_empty() { None } else { Some(bp.parse().ok()?) };
    let refund = f.next()? == "1";
    Some(Raw { id, enterprise_id, tax_type: f.next()?.to_string(), amount, basis_points, refund, period })
}

/// Credit codes of the enterprises among `ids` that `linked` does not have (no project).
async fn unlinked_codes(
    tx: &mut Tx<'_>,
    ids: &BTreeSet<i64>,
    linked: &HashMap<i64, CreditCode>,
) -> Result<HashMap<i64, CreditCode>> {
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !linked.contains_key(id)).collect();
    let mut out = HashMap::new();
    for part in missing.chunks(lookup_chunk(tx.backend)) {
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

/// The months already confirmed.
pub(crate) async fn confirmed_periods(tx: &mut Tx<'_>) -> Result<BTreeSet<Period>> {
    let rows = sqlx::query("SELECT period FROM settlements WHERE status = 'confirmed'").fetch_all(&mut *tx.tx).await?;
    rows.iter().map(|r| period(&r.try_get::<String, _>(0)?)).collect()
}

/// Every project as the core sees it, and which projects each enterprise's tax belongs to (each of an
/// enterprise's projects with weight 1: several projects of one enterprise share its tax equally).
pub(crate) async fn projects(tx: &mut Tx<'_>) -> Result<(Vec<Project>, EnterpriseProjects, HashMap<i64, CreditCode>)> {
    let mut agreements: HashMap<i64, Vec<Agreement>> = HashMap::new();
    let rows = sqlx::query("SELECT project_id, introducer, host, zone, from_period, to_period FROM sharing_agreements")
        .fetch_all(&mut *tx.tx)
        .await?;
    for r in &rows {
        let w = |name: &str| -> Result<u32> {
            u32::try_from(r.try_get::<i64, _>(name)?).map_err(|_| Error::Invalid("分成协议中的比例无效".into()))
        };
        let ratio = SharingRatio::new(w("introducer")?, w("host")?, w("zone")?).map_err(bad)?;
        let a = Agreement::new(
            ratio,
            period(&r.try_get::<String, _>("from_period")?)?,
            opt_period(r.try_get("to_period")?)?,
        )
        .map_err(bad)?;
        agreements.entry(r.try_get("project_id")?).or_default().push(a);
    }
    let mut moves: HashMap<i64, Vec<(String, Period)>> = HashMap::new();
    let rows =
        sqlx::query("SELECT project_id, host_town, to_period FROM project_host_moves ORDER BY project_id, to_period")
            .fetch_all(&mut *tx.tx)
            .await?;
    for r in &rows {
        let to = period(&r.try_get::<String, _>("to_period")?)?;
        moves.entry(r.try_get("project_id")?).or_default().push((r.try_get("host_town")?, to));
    }
    let rows = sqlx::query(
        "SELECT p.id, e.credit_code, p.introducer_town, p.introducer_department, p.host_town, p.enterprise_id \
         FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id ORDER BY p.id",
    )
    .fetch_all(&mut *tx.tx)
    .await?;
    let mut projects = Vec::with_capacity(rows.len());
    let mut links = Vec::with_capacity(rows.len());
    let mut codes: HashMap<i64, CreditCode> = HashMap::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let town: Option<String> = r.try_get("introducer_town")?;
        let dept: Option<i64> = r.try_get("introducer_department")?;
        let introducer = match (town, dept) {
            (Some(t), _) => Some(Unit::Town(TownCode::parse(&t).map_err(bad)?)),
            (None, Some(d)) => Some(Unit::Department(DepartmentId::new(d))),
            (None, None) => None,
        };
        let host = TownCode::parse(&r.try_get::<String, _>("host_town")?).map_err(bad)?;
        let hosts = host_history(host, moves.remove(&id).unwrap_or_default())?;
        let list = Agreements::new(agreements.remove(&id).unwrap_or_default()).map_err(bad)?;
        projects.push(Project::new(ProjectId::new(id), introducer, hosts, list));
        let enterprise: i64 = r.try_get("enterprise_id")?;
        let code = match codes.get(&enterprise) {
            Some(code) => code.clone(),
            None => {
                let raw: String = r.try_get("credit_code")?;
                let code = CreditCode::parse(&raw).map_err(|e| Error::Invalid(e.message))?;
                codes.insert(enterprise, code.clone());
                code
            }
        };
        links.push((code, ProjectId::new(id), 1));
    }
    Ok((projects, EnterpriseProjects::new(links).map_err(bad)?, codes))
}

/// One unit's weight in the split of one project's tax in a month (see [`Store::beneficiaries`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct BeneficiaryRow {
    pub credit_code: String,
    pub project_id: i64,
    /// "town:371323103", "dept:4" or "zone".
    pub unit: String,
    /// Tenths of the ratio, merged when one unit holds two roles.
    pub weight: u32,
    /// Position in the split's tie-break order: introducer, host town, zone.
    pub position: usize,
}

impl crate::Store {
    /// Who receives each project's tax in month `p`, as the settlement computes it (agreement in
    /// force, host history, merged roles): the input an aggregation outside the application needs to
    /// reproduce a settlement's per-unit totals (the DuckDB baseline of `benches/revenue.sh`).
    pub async fn beneficiaries(&self, p: Period) -> Result<Vec<BeneficiaryRow>> {
        let mut tx = self.begin().await?;
        let (projects, ..) = projects(&mut tx).await?;
        let codes: HashMap<i64, String> = sqlx::query(
            "SELECT p.id, e.credit_code FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id",
        )
        .fetch_all(&mut *tx.tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(projects.len() * 3);
        for project in &projects {
            let Ok(b) = project.beneficiaries(p) else { continue };
            let code = codes.get(&project.id().get()).cloned().unwrap_or_default();
            for (position, (unit, weight)) in b.shares().iter().enumerate() {
                out.push(BeneficiaryRow {
                    credit_code: code.clone(),
                    project_id: project.id().get(),
                    unit: crate::revenue_statement::unit_param(unit),
                    weight: *weight,
                    position,
                });
            }
        }
        Ok(out)
    }
}

/// The host history from the moves (town, last month hosted), in order, and the current host after them.
pub(crate) fn host_history(current: TownCode, moves: Vec<(String, Period)>) -> Result<HostHistory> {
    let mut spells = Vec::with_capacity(moves.len() + 1);
    let mut from = Period::FIRST;
    for (town, to) in moves {
        spells.push(HostSpell::new(TownCode::parse(&town).map_err(bad)?, from, Some(to)).map_err(bad)?);
        from = to.next();
    }
    spells.push(HostSpell::new(current, from, None).map_err(bad)?);
    HostHistory::new(spells).map_err(bad)
}

/// The configured county-retained shares.
pub(crate) async fn retained_shares(tx: &mut Tx<'_>) -> Result<RetainedShareTable> {
    let rows =
        sqlx::query("SELECT tax_type, basis_points, from_period, to_period FROM retained_share_rules ORDER BY id")
            .fetch_all(&mut *tx.tx)
            .await?;
    let mut rules = Vec::with_capacity(rows.len());
    for r in &rows {
        let bp = u32::try_from(r.try_get::<i64, _>("basis_points")?).unwrap_or(u32::MAX);
        rules.push(
            RetainedShareRule::new(
                TaxType::parse(&r.try_get::<String, _>("tax_type")?).map_err(bad)?,
                RetainedShare::from_basis_points(bp).map_err(bad)?,
                period(&r.try_get::<String, _>("from_period")?)?,
                opt_period(r.try_get("to_period")?)?,
            )
            .map_err(bad)?,
        );
    }
    RetainedShareTable::new(rules).map_err(bad)
}

/// A unit as stored: `town` + division code, `department` + id, `zone` + ''.
pub fn unit_key(u: &Unit) -> (&'static str, String) {
    match u {
        Unit::Town(t) => ("town", t.as_str().to_string()),
        Unit::Department(d) => ("department", d.get().to_string()),
        Unit::Zone => ("zone", String::new()),
    }
}

pub(crate) fn unit_of(kind: &str, code: &str) -> Result<Unit> {
    match kind {
        "town" => TownCode::parse(code).map(Unit::Town).map_err(bad),
        "department" => code
            .parse::<i64>()
            .map(|d| Unit::Department(DepartmentId::new(d)))
            .map_err(|_| Error::Invalid("结算分录中的部门编号无效".into())),
        _ => Ok(Unit::Zone),
    }
}

/// Unit names for pages: towns by the division table, departments by the organisation data.
pub(crate) fn unit_name(u: &Unit, departments: &BTreeMap<i64, String>) -> String {
    match u {
        Unit::Department(d) => departments.get(&d.get()).cloned().unwrap_or_else(|| u.to_string()),
        _ => u.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn host_history_follows_the_moves() {
        let t = |c: &str| TownCode::parse(c).unwrap();
        let m = |s: &str| Period::parse(s).unwrap();
        let h = host_history(t("371323103"), vec![("371323001".into(), m("2021-12"))]).unwrap();
        assert_eq!(h.in_force(m("1990-01")).map(TownCode::as_str), Some("371323001"));
        assert_eq!(h.in_force(m("2021-12")).map(TownCode::as_str), Some("371323001"));
        assert_eq!(h.in_force(m("2022-01")).map(TownCode::as_str), Some("371323103"));
        let none = host_history(t("371323103"), Vec::new()).unwrap();
        assert_eq!(none.in_force(m("2030-06")).map(TownCode::as_str), Some("371323103"));
    }

    #[test]
    fn units_round_trip_their_keys() {
        for u in [Unit::Zone, Unit::Department(DepartmentId::new(7)), Unit::Town(TownCode::parse("371323001").unwrap())]
        {
            let (kind, code) = unit_key(&u);
            assert_eq!(unit_of(kind, &code).unwrap(), u);
        }
        assert!(unit_of("department", "x").is_err());
    }
}
