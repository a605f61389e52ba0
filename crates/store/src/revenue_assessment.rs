//! Assessment points: the dated rule table, yearly quotas, the top-500 flag of projects, and the
//! year's scores computed by the core rules (`core::revenue::assessment`). Rules are ended, never
//! deleted, so a past year is always scored by the rules then in force.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::revenue_settle_input::{unit_key, unit_of};
use crate::sql::Sql;
use crate::{Store, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::area::Area;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::assessment::{LandedProject, Points, Quota, RuleKind, Score, ScoringRule, score_year};
use dianxiaoer_core::revenue::party::{DepartmentId, TownCode, Unit};
use sqlx::Row;

fn kind_code(k: RuleKind) -> (&'static str, i64) {
    match k {
        RuleKind::InvestmentTier { min } => ("investment_tier", min.fen()),
        RuleKind::ClearedArea { min } => ("cleared_area", min.m2_centi()),
        RuleKind::Top500 => ("top500", 0),
        RuleKind::QuotaShortfall => ("quota_shortfall", 0),
    }
}

fn kind_of(code: &str, threshold: i64) -> Result<RuleKind> {
    Ok(match code {
        "investment_tier" => RuleKind::InvestmentTier { min: Fen::from_fen(threshold) },
        "cleared_area" => RuleKind::ClearedArea { min: Area::from_m2_centi(threshold) },
        "top500" => RuleKind::Top500,
        "quota_shortfall" => RuleKind::QuotaShortfall,
        other => return Err(Error::Db(sqlx::Error::Decode(format!("unknown assessment rule kind {other}").into()))),
    })
}

/// A unit's place on the board, and its score explained when the caller's scope covers the unit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BoardRow {
    pub rank: usize,
    pub unit: Unit,
    pub total: Points,
    pub landed: u32,
    /// `None` when the caller may see the total but not the projects behind it.
    pub lines: Option<Vec<dianxiaoer_core::revenue::assessment::ScoreLine>>,
}

impl Store {
    /// Every rule, newest first.
    pub async fn assessment_rules(&self) -> Result<Vec<ScoringRule>> {
        let rows = sqlx::query(
            "SELECT id, kind, threshold, points_tenths, from_year, to_year FROM assessment_rules ORDER BY id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ScoringRule {
                    id: r.try_get(0)?,
                    kind: kind_of(&r.try_get::<String, _>(1)?, r.try_get(2)?)?,
                    points: Points::from_tenths(r.try_get(3)?),
                    from_year: i32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(0),
                    to_year: r.try_get::<Option<i64>, _>(5)?.and_then(|y| i32::try_from(y).ok()),
                })
            })
            .collect()
    }

    /// Adds a rule, validated by the core.
    pub async fn add_assessment_rule(&self, actor: &Actor, rule: &ScoringRule, now: i64) -> Result<i64> {
        rule.validate().map_err(|e| Error::Invalid(e.message))?;
        let (kind, threshold) = kind_code(rule.kind);
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO assessment_rules (kind, threshold, points_tenths, from_year, to_year, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(kind)
        .bind(threshold)
        .bind(rule.points.tenths())
        .bind(i64::from(rule.from_year))
        .bind(rule.to_year.map(i64::from))
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("add_assessment_rule", "assessment_rule", id).detail(serde_json::json!({
            "rule": rule.kind.describe(), "points": rule.points.to_string(), "from_year": rule.from_year, "to_year": rule.to_year,
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Ends a rule after `last_year` (it keeps counting for the years before).
    pub async fn end_assessment_rule(&self, actor: &Actor, id: i64, last_year: i32, now: i64) -> Result<()> {
        let rules = self.assessment_rules().await?;
        let Some(mut rule) = rules.into_iter().find(|r| r.id == id) else {
            return Err(Error::NotFound);
        };
        rule.to_year = Some(last_year);
        rule.validate().map_err(|e| Error::Invalid(e.message))?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE assessment_rules SET to_year = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(last_year))
            .bind(now)
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let entry = AuditEntry::ok("end_assessment_rule", "assessment_rule", id)
            .detail(serde_json::json!({"rule": rule.kind.describe(), "to_year": last_year}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Sets a unit's quota of newly landed projects for a year.
    pub async fn set_assessment_quota(&self, actor: &Actor, q: &Quota, now: i64) -> Result<()> {
        if q.unit == Unit::Zone {
            return Err(Error::Invalid("开发区本身不下达落地项目任务".into()));
        }
        let (kind, code) = unit_key(&q.unit);
        if !(2000..=2100).contains(&q.year) || q.projects > 1000 {
            return Err(Error::Invalid("年份应在 2000–2100 之间，任务数不超过 1000".into()));
        }
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO assessment_quotas (unit_kind, unit_code, year, projects, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (unit_kind, unit_code, year) DO UPDATE SET projects = excluded.projects, updated_at = excluded.updated_at",
        )
        .bind(kind)
        .bind(code.clone())
        .bind(i64::from(q.year))
        .bind(i64::from(q.projects))
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("set_assessment_quota", "assessment_quota", format!("{kind}:{code}:{}", q.year))
            .detail(serde_json::json!({"projects": q.projects}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    pub async fn assessment_quotas(&self, year: i32) -> Result<Vec<Quota>> {
        let rows = sqlx::query("SELECT unit_kind, unit_code, projects FROM assessment_quotas WHERE year = $1")
            .bind(i64::from(year))
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Ok(unit) = unit_of(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?) {
                out.push(Quota { unit, year, projects: u32::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0) });
            }
        }
        Ok(out)
    }

    /// Marks a project in scope as a China-top-500 investor's (or not).
    pub async fn set_project_top500(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        top500: bool,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut s = Sql::new("UPDATE investment_projects AS p SET top500 = ");
        s.i64(i64::from(top500)).push(", updated_at = ").i64(now).push(" WHERE p.id = ").i64(id);
        scope::projects(&mut s, scope_);
        if s.query().execute(&mut *tx.tx).await?.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        let entry = AuditEntry::ok("set_project_top500", "investment_project", id)
            .detail(serde_json::json!({"top500": top500}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// The year's board, highest first. Every caller with access to revenue sees the totals; the
    /// explanation (which projects) only for units whose projects its scope covers.
    pub async fn assessment_board(&self, scope_: &Scope, year: i32) -> Result<Vec<BoardRow>> {
        let rows = sqlx::query(
            "SELECT id, name, introducer_town, introducer_department, host_town, landed_on, actual_investment_fen, \
             cleared_area_centi_m2, top500 FROM investment_projects WHERE landed_on LIKE $1",
        )
        .bind(format!("{year:04}-%"))
        .fetch_all(self.pool())
        .await?;
        let mut projects = Vec::with_capacity(rows.len());
        for r in rows {
            let town = |v: Option<String>| v.and_then(|c| TownCode::parse(&c).ok()).map(Unit::Town);
            let introducer = town(r.try_get(2)?)
                .or(r.try_get::<Option<i64>, _>(3)?.map(|d| Unit::Department(DepartmentId::new(d))))
                .unwrap_or(Unit::Zone);
            projects.push(LandedProject {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                introducer,
                host: town(Some(r.try_get(4)?)).unwrap_or(Unit::Zone),
                landed_year: Some(year),
                actual_investment: Fen::from_fen(r.try_get(6)?),
                cleared_area: Area::from_m2_centi(r.try_get(7)?),
                top500: r.try_get::<i64, _>(8)? == 1,
            });
        }
        let scores = score_year(year, &projects, &self.assessment_rules().await?, &self.assessment_quotas(year).await?);
        let mut board: Vec<(Unit, Score)> = scores.into_iter().collect();
        board.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(b.1.landed.cmp(&a.1.landed)).then(a.0.cmp(&b.0)));
        let sees = |u: &Unit| match (scope_, u) {
            (Scope::Zone | Scope::Department(_), _) => true,
            (Scope::Town(code), Unit::Town(t)) => t.as_str() == code,
            (Scope::CountyDepartment(d), Unit::Department(x)) => x.get() == *d,
            _ => false,
        };
        Ok(board
            .into_iter()
            .enumerate()
            .map(|(i, (unit, s))| BoardRow {
                rank: i + 1,
                lines: sees(&unit).then_some(s.lines),
                total: s.total,
                landed: s.landed,
                unit,
            })
            .collect())
    }
}

/// One town's presence in the zone: its enterprises and projects (hosted and introduced) and its
/// confirmed share of the year's settlements.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TownCoverage {
    pub code: String,
    pub name: String,
    pub enterprises_hosted: i64,
    pub enterprises_introduced: i64,
    pub projects_hosted: i64,
    pub projects_introduced: i64,
    /// `None` when the caller's scope does not cover the town's statement.
    pub share_fen: Option<i64>,
}

impl Store {
    /// Every town and street with its presence in the zone — so "every town has an enterprise in the
    /// zone" can be checked at a glance. Counts are for every reader of revenue; the share only for
    /// the zone's staff and the town itself, as its statement.
    pub async fn town_coverage(&self, scope_: &Scope, year: i32) -> Result<Vec<TownCoverage>> {
        let towns = self.towns().await?;
        let grouped = |sql: &'static str| async move {
            let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<std::collections::HashMap<String, i64>>>()
        };
        let eh = grouped("SELECT host_town, COUNT(*) FROM enterprises GROUP BY host_town").await?;
        let ei = grouped(
            "SELECT introducer_town, COUNT(*) FROM enterprises WHERE introducer_town IS NOT NULL GROUP BY introducer_town",
        )
        .await?;
        let ph = grouped("SELECT host_town, COUNT(*) FROM investment_projects GROUP BY host_town").await?;
        let pi = grouped(
            "SELECT introducer_town, COUNT(*) FROM investment_projects WHERE introducer_town IS NOT NULL \
             GROUP BY introducer_town",
        )
        .await?;
        let rows = sqlx::query(
            "SELECT x.unit_code, SUM(x.amount_fen) FROM settlement_tax_types x JOIN settlements s ON s.id = x.settlement_id \
             WHERE s.status = 'confirmed' AND x.unit_kind = 'town' AND s.period LIKE $1 GROUP BY x.unit_code",
        )
        .bind(format!("{year:04}-%"))
        .fetch_all(self.pool())
        .await?;
        let mut shares = std::collections::HashMap::new();
        for r in rows {
            shares.insert(r.try_get::<String, _>(0)?, r.try_get::<Option<i64>, _>(1)?.unwrap_or(0));
        }
        let sees = |code: &str| match scope_ {
            Scope::Zone | Scope::Department(_) => true,
            Scope::Town(t) => t == code,
            _ => false,
        };
        let n = |m: &std::collections::HashMap<String, i64>, c: &str| m.get(c).copied().unwrap_or(0);
        Ok(towns
            .into_iter()
            .map(|t| TownCoverage {
                enterprises_hosted: n(&eh, &t.code),
                enterprises_introduced: n(&ei, &t.code),
                projects_hosted: n(&ph, &t.code),
                projects_introduced: n(&pi, &t.code),
                share_fen: sees(&t.code).then(|| n(&shares, &t.code)),
                code: t.code,
                name: t.name,
            })
            .collect())
    }
}
