//! What a settlement comes to, aggregated in SQL: per unit for the zone's staff (with the rows left
//! unshared and why), and a unit's statement (对账单): per project and enterprise its tax, the part to
//! share, the unit's share, the totals, and the adjustments carried from confirmed months.
//!
//! Scope: the zone's staff see every unit's statement of any settlement; a town or county department
//! only its own, and only once confirmed; a probe for another unit is `NotFound`.

use crate::Store;
use crate::error::{Error, Result};
use crate::revenue_settle_input::{unit_key, unit_name, unit_of_param};
use crate::revenue_settlement::{SettlementRow, own_unit, zone_wide};
use crate::sql::Sql;
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::revenue::party::Unit;
use dianxiaoer_core::revenue::period::Period;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// One unit's part of a settlement.
#[derive(Debug, Clone, Serialize)]
pub struct UnitTotal {
    pub unit: Unit,
    /// "town:371323103", "dept:4" or "zone", as statements are asked for.
    pub key: String,
    pub name: String,
    pub amount_fen: i64,
    /// Of which adjustments of confirmed months.
    pub adjustments_fen: i64,
    pub projects: i64,
    pub lines: i64,
}

/// A ledger row the settlement did not share.
#[derive(Debug, Clone, Serialize)]
pub struct UnsharedRow {
    pub ledger_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub period: String,
    pub tax_type: String,
    pub amount_fen: i64,
    pub shareable_fen: Option<i64>,
    pub reason: String,
    pub adjusts_period: Option<String>,
}

/// A settlement with its per-unit totals and unshared rows.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementDetail {
    pub settlement: SettlementRow,
    pub units: Vec<UnitTotal>,
    /// The first [`UNSHARED_SHOWN`] unshared rows; `settlement.unshared_count` counts them all.
    pub unshared: Vec<UnsharedRow>,
}

pub const UNSHARED_SHOWN: i64 = 1000;

/// One line of a statement: a project (and its enterprise) at one ratio and share.
#[derive(Debug, Clone, Serialize)]
pub struct StatementLine {
    pub project_id: i64,
    pub project_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    /// Introducer : host : zone in force.
    pub ratio: String,
    /// The unit's tenths of it (both shares when it is introducer and host).
    pub weight: i64,
    /// The confirmed month an adjustment corrects.
    pub adjusts_period: Option<String>,
    pub rows: i64,
    /// Tax paid by the enterprise (实缴), over the rows of this line.
    pub tax_fen: i64,
    /// The project's part of the county-retained amount, shared by the ratio.
    pub shareable_fen: i64,
    /// The unit's share.
    pub amount_fen: i64,
}

/// One tax type's part of a statement (对账单按税种).
#[derive(Debug, Clone, Serialize)]
pub struct TaxTypeLine {
    pub tax_type: String,
    pub rows: i64,
    pub tax_fen: i64,
    pub shareable_fen: i64,
    /// The unit's share, adjustments included.
    pub amount_fen: i64,
    /// Of which adjustments of confirmed months.
    pub adjustments_fen: i64,
}

/// A unit's statement (对账单) of one month.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub settlement: SettlementRow,
    pub unit: Unit,
    pub key: String,
    pub unit_name: String,
    pub lines: Vec<StatementLine>,
    pub adjustments: Vec<StatementLine>,
    /// The same amounts by tax type, largest share first; they sum to the totals.
    pub by_tax_type: Vec<TaxTypeLine>,
    pub tax_fen: i64,
    pub shareable_fen: i64,
    /// The month's own share (without adjustments).
    pub regular_fen: i64,
    pub adjustments_fen: i64,
    pub total_fen: i64,
}

/// "town:371323103", "dept:4" or "zone".
pub fn unit_param(u: &Unit) -> String {
    match u {
        Unit::Town(t) => format!("town:{}", t.as_str()),
        Unit::Department(d) => format!("dept:{}", d.get()),
        Unit::Zone => "zone".into(),
    }
}

fn may_see(scope: &Scope, u: &Unit) -> bool {
    zone_wide(scope) || own_unit(scope).is_some_and(|own| own == *u)
}

fn add(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b).ok_or_else(|| Error::Invalid("金额合计超出范围".into()))
}

impl Store {
    async fn department_names(&self) -> Result<BTreeMap<i64, String>> {
        Ok(self.departments().await?.into_iter().map(|d| (d.id, d.name)).collect())
    }

    /// A settlement with what each unit receives and the rows left unshared; zone staff only.
    pub async fn settlement_detail(&self, scope: &Scope, p: Period) -> Result<SettlementDetail> {
        if !zone_wide(scope) {
            return Err(Error::NotFound);
        }
        let settlement = self.settlement(scope, p).await?;
        let names = self.department_names().await?;
        // Each of an entry's three slots in turn (the unit it credits, or NULL).
        let mut s = Sql::new(
            "SELECT unit, CAST(SUM(amount_fen) AS BIGINT), \
             CAST(SUM(CASE WHEN adjusts_period IS NULL THEN 0 ELSE amount_fen END) AS BIGINT), \
             COUNT(DISTINCT project_id), CAST(SUM(n) AS BIGINT) FROM (\
             SELECT unit1 AS unit, project_id, adjusts_period, rows1 AS n, amount1_fen AS amount_fen \
             FROM settlement_entries WHERE settlement_id = ",
        );
        s.i64(settlement.id);
        s.push(
            " UNION ALL SELECT unit2, project_id, adjusts_period, rows2, amount2_fen FROM settlement_entries \
             WHERE unit2 IS NOT NULL AND settlement_id = ",
        );
        s.i64(settlement.id);
        s.push(
            " UNION ALL SELECT unit3, project_id, adjusts_period, rows3, amount3_fen FROM settlement_entries \
             WHERE unit3 IS NOT NULL AND settlement_id = ",
        );
        s.i64(settlement.id).push(") x GROUP BY unit");
        let mut units = Vec::new();
        for r in s.fetch_all(self.pool()).await? {
            let unit = unit_of_param(&r.try_get::<String, _>(0)?)?;
            units.push(UnitTotal {
                key: unit_param(&unit),
                name: unit_name(&unit, &names),
                unit,
                amount_fen: r.try_get(1)?,
                adjustments_fen: r.try_get(2)?,
                projects: r.try_get(3)?,
                lines: r.try_get(4)?,
            });
        }
        // Towns, then county departments, then the zone; by code within.
        units.sort_by_key(|a| a.unit);
        let mut q = Sql::new(
            "SELECT su.ledger_id, l.enterprise_id, e.name, l.credit_code, l.period, l.tax_type, l.amount_fen, \
             su.shareable_fen, su.reason, su.adjusts_period FROM settlement_unshared su \
             JOIN tax_ledger l ON l.id = su.ledger_id JOIN enterprises e ON e.id = l.enterprise_id \
             WHERE su.settlement_id = ",
        );
        q.i64(settlement.id).push(" ORDER BY su.id LIMIT ").i64(UNSHARED_SHOWN);
        let unshared = q
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(UnsharedRow {
                    ledger_id: r.try_get(0)?,
                    enterprise_id: r.try_get(1)?,
                    enterprise_name: r.try_get(2)?,
                    credit_code: r.try_get(3)?,
                    period: r.try_get(4)?,
                    tax_type: r.try_get(5)?,
                    amount_fen: r.try_get(6)?,
                    shareable_fen: r.try_get(7)?,
                    reason: r.try_get(8)?,
                    adjusts_period: r.try_get(9)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(SettlementDetail { settlement, units, unshared })
    }

    /// The statement of `unit` for `p`; see the module docs for who may see it.
    pub async fn statement(&self, scope: &Scope, p: Period, unit: &Unit) -> Result<Statement> {
        if !may_see(scope, unit) {
            return Err(Error::NotFound);
        }
        let settlement = self.settlement(scope, p).await?;
        let (kind, code) = unit_key(unit);
        // The entries crediting the unit, in whichever slot: one line each (an entry is one project,
        // enterprise and month adjusted, and credits a unit once).
        let key = unit_param(unit);
        let mut s = Sql::new(
            "SELECT x.project_id, p.name AS project_name, x.enterprise_id, e.name AS enterprise_name, e.credit_code, \
             x.ratio, x.weight, x.adjusts_period, x.n, x.tax_fen, x.shareable_fen, x.amount_fen FROM (\
             SELECT project_id, enterprise_id, ratio, adjusts_period, weight1 AS weight, rows1 AS n, \
             tax1_fen AS tax_fen, debit1_fen AS shareable_fen, amount1_fen AS amount_fen \
             FROM settlement_entries WHERE settlement_id = ",
        );
        s.i64(settlement.id).push(" AND unit1 = ").text(key.clone());
        s.push(
            " UNION ALL SELECT project_id, enterprise_id, ratio, adjusts_period, weight2, rows2, tax2_fen, \
             debit2_fen, amount2_fen FROM settlement_entries WHERE settlement_id = ",
        );
        s.i64(settlement.id).push(" AND unit2 = ").text(key.clone());
        s.push(
            " UNION ALL SELECT project_id, enterprise_id, ratio, adjusts_period, weight3, rows3, tax3_fen, \
             debit3_fen, amount3_fen FROM settlement_entries WHERE settlement_id = ",
        );
        s.i64(settlement.id).push(" AND unit3 = ").text(key);
        s.push(
            ") x JOIN investment_projects p ON p.id = x.project_id JOIN enterprises e ON e.id = x.enterprise_id \
             ORDER BY COALESCE(x.adjusts_period, ''), p.name, x.project_id, x.ratio",
        );
        let (mut lines, mut adjustments) = (Vec::new(), Vec::new());
        let (mut tax, mut shareable, mut regular, mut adjusted) = (0i64, 0i64, 0i64, 0i64);
        for r in s.fetch_all(self.pool()).await? {
            let line = StatementLine {
                project_id: r.try_get("project_id")?,
                project_name: r.try_get("project_name")?,
                enterprise_id: r.try_get("enterprise_id")?,
                enterprise_name: r.try_get("enterprise_name")?,
                credit_code: r.try_get("credit_code")?,
                ratio: r.try_get("ratio")?,
                weight: r.try_get("weight")?,
                adjusts_period: r.try_get("adjusts_period")?,
                rows: r.try_get("n")?,
                tax_fen: r.try_get("tax_fen")?,
                shareable_fen: r.try_get("shareable_fen")?,
                amount_fen: r.try_get("amount_fen")?,
            };
            tax = add(tax, line.tax_fen)?;
            shareable = add(shareable, line.shareable_fen)?;
            if line.adjusts_period.is_some() {
                adjusted = add(adjusted, line.amount_fen)?;
                adjustments.push(line);
            } else {
                regular = add(regular, line.amount_fen)?;
                lines.push(line);
            }
        }
        let by_tax_type = self.statement_by_tax_type(settlement.id, kind, &code).await?;
        Ok(Statement {
            by_tax_type,
            settlement,
            key: unit_param(unit),
            unit_name: unit_name(unit, &self.department_names().await?),
            unit: *unit,
            lines,
            adjustments,
            tax_fen: tax,
            shareable_fen: shareable,
            regular_fen: regular,
            adjustments_fen: adjusted,
            total_fen: add(regular, adjusted)?,
        })
    }
}

impl Store {
    /// A unit's amounts of one settlement per tax type.
    async fn statement_by_tax_type(
        &self,
        settlement_id: i64,
        kind: &'static str,
        code: &str,
    ) -> Result<Vec<TaxTypeLine>> {
        let mut s = Sql::new(
            "SELECT tax_type, row_count, tax_fen, debit_fen, amount_fen, adjustments_fen \
             FROM settlement_tax_types WHERE settlement_id = ",
        );
        s.i64(settlement_id).push(" AND unit_kind = ").text(kind).push(" AND unit_code = ").text(code);
        s.push(" ORDER BY amount_fen DESC, tax_type");
        s.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(TaxTypeLine {
                    tax_type: r.try_get(0)?,
                    rows: r.try_get(1)?,
                    tax_fen: r.try_get(2)?,
                    shareable_fen: r.try_get(3)?,
                    amount_fen: r.try_get(4)?,
                    adjustments_fen: r.try_get(5)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dianxiaoer_core::revenue::party::{DepartmentId, TownCode};

    #[test]
    fn a_town_or_department_sees_only_itself() {
        let xujiahu = Unit::Town(TownCode::parse("371323103").unwrap());
        let mazhan = Unit::Town(TownCode::parse("371323101").unwrap());
        let dept = Unit::Department(DepartmentId::new(4));
        assert!(may_see(&Scope::Zone, &mazhan) && may_see(&Scope::Department(2), &dept));
        assert!(may_see(&Scope::Zone, &Unit::Zone));
        assert!(may_see(&Scope::Town("371323103".into()), &xujiahu));
        assert!(!may_see(&Scope::Town("371323103".into()), &mazhan));
        assert!(!may_see(&Scope::Town("371323103".into()), &Unit::Zone));
        assert!(may_see(&Scope::CountyDepartment(4), &dept));
        assert!(!may_see(&Scope::CountyDepartment(5), &dept));
        assert!(!may_see(&Scope::Enterprise(1), &xujiahu) && !may_see(&Scope::Nothing, &Unit::Zone));
        assert_eq!(unit_param(&xujiahu), "town:371323103");
        assert_eq!(unit_param(&dept), "dept:4");
    }
}
