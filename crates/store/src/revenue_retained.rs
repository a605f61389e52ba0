//! Configuration the settlement reads besides projects and agreements: the county-retained share per
//! tax type with dates (for rows whose sheet carries no 预算分配比例), and a project's move to another
//! host town (落地单位变更), which keeps where it was before so that each month is shared with the
//! host of that month.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::revenue_settle_input::{bad, period};
use crate::revenue_settlement::zone_wide;
use crate::sql::Sql;
use crate::{Backend, Store, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::revenue::party::TownCode;
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::tax::{RetainedShare, RetainedShareRule, RetainedShareTable, TaxType};
use serde::Serialize;
use sqlx::Row;

/// A configured retained share.
#[derive(Debug, Clone, Serialize)]
pub struct RetainedRuleRow {
    pub id: i64,
    pub tax_type: String,
    pub basis_points: i64,
    /// "30%".
    pub share: String,
    pub from_period: String,
    pub to_period: Option<String>,
    pub note: String,
    pub created_at: i64,
    pub created_by: String,
}

/// A project's earlier host town and the last month it hosted the project.
#[derive(Debug, Clone, Serialize)]
pub struct HostMoveRow {
    pub host_town: String,
    pub host_town_name: String,
    pub to_period: String,
    pub moved_at: i64,
}

const RULES: &str =
    "SELECT id, tax_type, basis_points, from_period, to_period, note, created_at, created_by FROM retained_share_rules";

fn rule_row(r: &sqlx::any::AnyRow) -> Result<RetainedRuleRow> {
    let bp: i64 = r.try_get("basis_points")?;
    let share = RetainedShare::from_basis_points(u32::try_from(bp).unwrap_or(u32::MAX)).map_err(bad)?;
    Ok(RetainedRuleRow {
        id: r.try_get("id")?,
        tax_type: r.try_get("tax_type")?,
        basis_points: bp,
        share: share.to_string(),
        from_period: r.try_get("from_period")?,
        to_period: r.try_get("to_period")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

fn as_rule(r: &RetainedRuleRow) -> Result<RetainedShareRule> {
    let bp = u32::try_from(r.basis_points).unwrap_or(u32::MAX);
    RetainedShareRule::new(
        TaxType::parse(&r.tax_type).map_err(bad)?,
        RetainedShare::from_basis_points(bp).map_err(bad)?,
        period(&r.from_period)?,
        r.to_period.as_deref().map(period).transpose()?,
    )
    .map_err(bad)
}

impl Store {
    /// Every configured retained share, by tax type and start.
    pub async fn retained_share_rules(&self) -> Result<Vec<RetainedRuleRow>> {
        let mut s = Sql::new(RULES);
        s.push(" ORDER BY tax_type, from_period, id");
        s.fetch_all(self.pool()).await?.iter().map(rule_row).collect()
    }

    /// Adds a retained share. An open-ended rule of the same tax type that started earlier is closed
    /// the month before the new one starts; any other overlap is refused (core `RetainedShareTable`).
    /// Confirmed settlements keep their entries whatever the rules say later. Zone-wide scope only.
    pub async fn add_retained_share_rule(
        &self,
        actor: &Actor,
        scope_: &Scope,
        rule: &RetainedShareRule,
        note: &str,
        now: i64,
    ) -> Result<i64> {
        if !zone_wide(scope_) {
            return Err(Error::Invalid("配置留成比例需全区或部门数据范围".into()));
        }
        let mut tx = self.begin().await?;
        if tx.backend == Backend::Postgres {
            // The settlement lifecycle's lock: a draft reads the rules once, consistently.
            sqlx::query("SELECT pg_advisory_xact_lock(7233009)").execute(&mut *tx.tx).await?;
        }
        let name = rule.tax_type().name().to_string();
        let mut s = Sql::new(RULES);
        s.push(" WHERE tax_type = ").text(name.clone()).push(" ORDER BY from_period, id");
        let existing: Vec<RetainedRuleRow> =
            s.query().fetch_all(&mut *tx.tx).await?.iter().map(rule_row).collect::<Result<_>>()?;
        let from = rule.validity().from();
        let mut closed = None;
        let mut rules = Vec::with_capacity(existing.len() + 1);
        for r in &existing {
            let mut core = as_rule(r)?;
            if r.to_period.is_none() && core.validity().from() < from {
                let end = from.previous().ok_or_else(|| Error::Invalid("开始月份过早".into()))?;
                core = RetainedShareRule::new(core.tax_type().clone(), core.share(), core.validity().from(), Some(end))
                    .map_err(bad)?;
                closed = Some((r.id, end));
            }
            rules.push(core);
        }
        rules.push(rule.clone());
        RetainedShareTable::new(rules).map_err(bad)?;
        if let Some((id, end)) = closed {
            sqlx::query("UPDATE retained_share_rules SET to_period = $1 WHERE id = $2 AND to_period IS NULL")
                .bind(end.to_string())
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO retained_share_rules (tax_type, basis_points, from_period, to_period, note, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(name.clone())
        .bind(i64::from(rule.share().basis_points()))
        .bind(from.to_string())
        .bind(rule.validity().to().map(|p| p.to_string()))
        .bind(note.to_string())
        .bind(now)
        .bind(actor.username.clone())
        .fetch_one(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("add_retained_share", "retained_share_rule", id).detail(serde_json::json!({
            "tax_type": name, "share": rule.share().to_string(), "from": from.to_string(),
            "to": rule.validity().to().map(|p| p.to_string()),
            "closed": closed.map(|(id, end)| serde_json::json!({"id": id, "to": end.to_string()})),
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Where a project in scope was hosted before, oldest first.
    pub async fn host_moves(&self, scope_: &Scope, project_id: i64) -> Result<Vec<HostMoveRow>> {
        self.project(scope_, project_id).await?;
        let rows = sqlx::query(
            "SELECT m.host_town, t.name, m.to_period, m.moved_at FROM project_host_moves m \
             JOIN towns t ON t.code = m.host_town WHERE m.project_id = $1 ORDER BY m.to_period",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HostMoveRow {
                    host_town: r.try_get(0)?,
                    host_town_name: r.try_get(1)?,
                    to_period: r.try_get(2)?,
                    moved_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Moves a project in scope to `town` from month `from` on: the current host keeps the months
    /// before. `from` must lie after the previous move.
    pub async fn move_project_host(
        &self,
        actor: &Actor,
        scope_: &Scope,
        project_id: i64,
        town: &TownCode,
        from: Period,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        // Touching the project locks its row on PostgreSQL (SQLite has the writer lock).
        let mut touch = Sql::new("UPDATE investment_projects AS p SET updated_at = ");
        touch.i64(now).push(" WHERE p.id = ").i64(project_id);
        scope::projects(&mut touch, scope_);
        if touch.query().execute(&mut *tx.tx).await?.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        let old: String = sqlx::query_scalar("SELECT host_town FROM investment_projects WHERE id = $1")
            .bind(project_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        if old == town.as_str() {
            return Err(Error::Invalid(format!("项目目前已落地在{}", town.name())));
        }
        let last: Option<String> =
            sqlx::query_scalar("SELECT MAX(to_period) FROM project_host_moves WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(&mut *tx.tx)
                .await?;
        let until = from.previous().ok_or_else(|| Error::Invalid("变更月份过早".into()))?;
        if let Some(last) = last.as_deref().map(period).transpose()?
            && until <= last
        {
            return Err(Error::Invalid(format!("变更月份应晚于上次变更（上次变更自 {} 起）", last.next())));
        }
        sqlx::query(
            "INSERT INTO project_host_moves (project_id, host_town, to_period, moved_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(project_id)
        .bind(old.clone())
        .bind(until.to_string())
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        sqlx::query("UPDATE investment_projects SET host_town = $1 WHERE id = $2")
            .bind(town.as_str().to_string())
            .bind(project_id)
            .execute(&mut *tx.tx)
            .await?;
        let entry = AuditEntry::ok("move_project_host", "investment_project", project_id).detail(serde_json::json!({
            "before": old, "after": town.as_str(), "from": from.to_string(),
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}
