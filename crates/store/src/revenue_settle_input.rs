//! What a settlement reads besides the ledger (`revenue_settle_read`), turned into the core's types
//! inside the drafting transaction: every project with its introducer, host history and agreements,
//! the enterprise–project links and the configured retained shares.

use crate::Tx;
use crate::error::{Error, Result};
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::revenue::RevenueError;
use dianxiaoer_core::revenue::agreement::{Agreement, Agreements, SharingRatio};
use dianxiaoer_core::revenue::party::{DepartmentId, HostHistory, HostSpell, Project, ProjectId, TownCode, Unit};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::settlement::EnterpriseProjects;
use dianxiaoer_core::revenue::tax::{RetainedShare, RetainedShareRule, RetainedShareTable, TaxType};
use rustc_hash::FxHashMap as HashMap;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub(crate) fn bad(e: RevenueError) -> Error {
    Error::Invalid(e.message)
}

pub(crate) fn period(raw: &str) -> Result<Period> {
    Period::parse(raw).map_err(bad)
}

fn opt_period(raw: Option<String>) -> Result<Option<Period>> {
    raw.as_deref().map(period).transpose()
}

/// The months already confirmed.
pub(crate) async fn confirmed_periods(tx: &mut Tx<'_>) -> Result<BTreeSet<Period>> {
    let rows = sqlx::query("SELECT period FROM settlements WHERE status = 'confirmed'").fetch_all(&mut *tx.tx).await?;
    rows.iter().map(|r| period(&r.try_get::<String, _>(0)?)).collect()
}

/// What a draft reads of the projects: [`projects`] as of `version` of `data_versions`.
pub(crate) struct ProjectsRead {
    version: i64,
    pub projects: Vec<Project>,
    pub links: EnterpriseProjects,
    pub codes: HashMap<i64, CreditCode>,
}

/// [`projects`], kept between drafts while no project, agreement, host move or credit code changed
/// (migration 0024's triggers bump the version in the writer's transaction): 100,000 projects take
/// 0.3–0.6 s to read. The version is read first, so a change committed meanwhile makes the kept copy
/// look older than it is, never newer.
pub(crate) async fn projects_kept(store: &crate::Store, tx: &mut Tx<'_>) -> Result<Arc<ProjectsRead>> {
    let version: i64 = sqlx::query_scalar("SELECT version FROM data_versions WHERE name = 'settlement_projects'")
        .fetch_one(&mut *tx.tx)
        .await?;
    let mut slot = store.settlement_projects.lock().await;
    if let Some(kept) = slot.as_ref().filter(|k| k.version == version) {
        return Ok(kept.clone());
    }
    let (projects, links, codes) = projects(tx).await?;
    let read = Arc::new(ProjectsRead { version, projects, links, codes });
    *slot = Some(read.clone());
    Ok(read)
}

/// Every project as the core sees it, and which projects each enterprise's tax belongs to (each of an
/// enterprise's projects with weight 1: several projects of one enterprise share its tax equally).
pub(crate) async fn projects(tx: &mut Tx<'_>) -> Result<(Vec<Project>, EnterpriseProjects, HashMap<i64, CreditCode>)> {
    let mut agreements: HashMap<i64, Vec<Agreement>> = HashMap::default();
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
    let mut moves: HashMap<i64, Vec<(String, Period)>> = HashMap::default();
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
    let mut codes: HashMap<i64, CreditCode> = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
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
            Some(code) => *code,
            None => {
                let raw: String = r.try_get("credit_code")?;
                let code = CreditCode::parse(&raw).map_err(|e| Error::Invalid(e.message))?;
                codes.insert(enterprise, code);
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

/// A unit as settlement entries name it (`unit_param`): "town:371323103", "dept:4", "zone".
pub(crate) fn unit_of_param(key: &str) -> Result<Unit> {
    match key.split_once(':') {
        Some(("town", code)) => unit_of("town", code),
        Some(("dept", id)) => unit_of("department", id),
        _ if key == "zone" => Ok(Unit::Zone),
        _ => Err(Error::Invalid("结算分录中的单位无效".into())),
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
        for u in [Unit::Zone, Unit::Department(DepartmentId::new(7)), Unit::Town(TownCode::parse("371323103").unwrap())]
        {
            assert_eq!(unit_of_param(&crate::revenue_statement::unit_param(&u)).unwrap(), u);
        }
        assert!(unit_of_param("county").is_err() && unit_of_param("dept:x").is_err());
    }
}
