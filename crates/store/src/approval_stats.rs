//! Approval statistics (审批统计): completed cases (办结) counted by category, item, department and
//! month, with the working days they used against the promised and statutory limits, and the overdue
//! lists. Each case keeps its category, department, statutory limit and, from completion, the working
//! days used (migration 0011), so every figure is one grouped SQL query within the caller's scope.

use crate::approval::category_code;
use crate::error::Result;
use crate::sql::Sql;
use crate::{Store, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::{Calendar, Category, Date};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The period: cases completed from `from` through `to` (Beijing dates, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsFilter {
    pub from: Date,
    pub to: Date,
}

/// The figures of one group (or of all).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatsGroup {
    pub key: String,
    pub label: String,
    pub count: i64,
    /// Working days used, pauses (补正) not counted.
    pub avg_elapsed: f64,
    pub max_elapsed: i64,
    pub avg_promised: f64,
    pub avg_statutory: f64,
    /// Completed later than the promised limit.
    pub overdue: i64,
    /// 提速: working days saved as a percentage of the statutory limits, `None` without any limit.
    pub efficiency: Option<f64>,
}

/// All figures of a period.
#[derive(Debug, Clone, Serialize)]
pub struct StatsReport {
    pub from: String,
    pub to: String,
    pub total: StatsGroup,
    pub by_category: Vec<StatsGroup>,
    pub by_item: Vec<StatsGroup>,
    pub by_department: Vec<StatsGroup>,
    pub by_month: Vec<StatsGroup>,
    /// The 好差评 ratings of the period's cases (满意率 per item and department).
    pub satisfaction: crate::SatisfactionReport,
}

/// A case on the overdue list: still open past its deadline, or completed after it.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueRow {
    pub id: i64,
    pub case_no: String,
    pub item_name: String,
    pub category: String,
    pub department: String,
    pub enterprise_name: String,
    pub state_name: String,
    pub agency: bool,
    pub received_at: Option<i64>,
    pub deadline: Option<String>,
    pub limit_days: i64,
    pub completed_at: Option<i64>,
    /// Working days past the limit (open: past the deadline until today).
    pub days_over: i64,
    /// Escalations recorded by the job (超期督办).
    pub escalations: i64,
}

/// The label of a stored category code.
pub fn category_label(code: &str) -> &'static str {
    Category::ALL.into_iter().find(|c| category_code(*c) == code).map_or("其他", Category::label)
}

const FROM: &str = " FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id \
    WHERE c.completed_on IS NOT NULL AND c.completed_on >= ";
/// Without an enterprise predicate in the scope (the whole zone), the join is left out.
const FROM_ALL: &str = " FROM approval_cases c WHERE c.completed_on IS NOT NULL AND c.completed_on >= ";

pub(crate) fn whole_zone(scope_: &Scope) -> bool {
    matches!(scope_, Scope::Zone | Scope::Department(_))
}

pub(crate) fn group_row(r: &AnyRow) -> Result<StatsGroup> {
    let count: i64 = r.try_get(2)?;
    let sum: i64 = r.try_get(3)?;
    let promised: i64 = r.try_get(5)?;
    let statutory: i64 = r.try_get(6)?;
    let avg = |x: i64| if count == 0 { 0.0 } else { x as f64 / count as f64 };
    Ok(StatsGroup {
        key: r.try_get(0)?,
        label: r.try_get(1)?,
        count,
        avg_elapsed: avg(sum),
        max_elapsed: r.try_get(4)?,
        avg_promised: avg(promised),
        avg_statutory: avg(statutory),
        overdue: r.try_get(7)?,
        efficiency: (statutory > 0).then(|| (statutory - sum) as f64 * 100.0 / statutory as f64),
    })
}

impl Store {
    /// The figures counted from the cases themselves, as the daily sums must give them (any scope).
    pub async fn approval_stats_from_cases(&self, scope_: &Scope, f: &StatsFilter) -> Result<Vec<Vec<StatsGroup>>> {
        let mut out = Vec::new();
        for key in ["'合计'", "c.category", "c.item_code", "c.department", "SUBSTR(c.completed_on, 1, 7)"] {
            out.push(self.stats_cases(scope_, f, key).await?);
        }
        Ok(out)
    }

    async fn stats_cases(&self, scope_: &Scope, f: &StatsFilter, key: &'static str) -> Result<Vec<StatsGroup>> {
        let mut s = Sql::new("SELECT ");
        s.push(key).push(" AS k, ").push(key).push(
            " AS l, COUNT(*) AS n, CAST(COALESCE(SUM(c.elapsed_days), 0) AS BIGINT) AS used, \
             COALESCE(MAX(c.elapsed_days), 0) AS longest, CAST(COALESCE(SUM(c.limit_days), 0) AS BIGINT) AS promised, \
             CAST(COALESCE(SUM(c.statutory_days), 0) AS BIGINT) AS statutory, \
             CAST(COALESCE(SUM(CASE WHEN c.elapsed_days > c.limit_days THEN 1 ELSE 0 END), 0) AS BIGINT) AS late",
        );
        s.push(if whole_zone(scope_) { FROM_ALL } else { FROM })
            .text(f.from.to_string())
            .push(" AND c.completed_on <= ")
            .text(f.to.to_string());
        if !whole_zone(scope_) {
            scope::enterprises(&mut s, scope_);
        }
        // A constant key is the total: one row without grouping (PostgreSQL refuses a constant).
        if !key.starts_with('\'') {
            s.push(" GROUP BY ").push(key).push(" ORDER BY ").push(key);
        }
        s.fetch_all(self.pool()).await?.iter().map(group_row).collect()
    }

    /// The statistics of the cases in scope completed in the period (module docs).
    pub async fn approval_stats(&self, scope_: &Scope, f: &StatsFilter) -> Result<StatsReport> {
        let [all, by_category, by_item, by_department, by_month] = if whole_zone(scope_) {
            self.stats_from_days(f).await?
        } else {
            let mut sets = self.approval_stats_from_cases(scope_, f).await?.into_iter();
            let mut next = || sets.next().unwrap_or_default();
            [next(), next(), next(), next(), next()]
        };
        let total = all.into_iter().next().unwrap_or(StatsGroup {
            key: "合计".into(),
            label: "合计".into(),
            count: 0,
            avg_elapsed: 0.0,
            max_elapsed: 0,
            avg_promised: 0.0,
            avg_statutory: 0.0,
            overdue: 0,
            efficiency: None,
        });
        let mut by_category = by_category;
        for g in &mut by_category {
            g.label = category_label(&g.key).to_owned();
        }
        // The five categories in the article's order, empty ones included.
        let by_category = Category::ALL
            .into_iter()
            .map(|c| {
                by_category.iter().find(|g| g.key == category_code(c)).cloned().unwrap_or(StatsGroup {
                    key: category_code(c).into(),
                    label: c.label().into(),
                    count: 0,
                    avg_elapsed: 0.0,
                    max_elapsed: 0,
                    avg_promised: 0.0,
                    avg_statutory: 0.0,
                    overdue: 0,
                    efficiency: None,
                })
            })
            .collect();
        // Item names from the catalogue (the current version's), so that the index covers the query.
        let mut by_item = by_item;
        let names: std::collections::HashMap<String, String> =
            sqlx::query("SELECT code, name FROM approval_items WHERE active = 1")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_>>()?;
        for g in &mut by_item {
            if let Some(n) = names.get(&g.key) {
                g.label = n.clone();
            }
        }
        Ok(StatsReport {
            from: f.from.to_string(),
            to: f.to.to_string(),
            total,
            by_category,
            by_item,
            by_department,
            by_month,
            satisfaction: self.satisfaction_stats(scope_, f).await?,
        })
    }

    /// The overdue lists within scope: open cases whose clock runs past their deadline on `today`
    /// (most overdue first), and cases completed in the period later than the promised limit. At
    /// most `max` rows each.
    /// How many cases each overdue list of [`Store::overdue_cases`] holds: (open, completed late).
    pub async fn overdue_counts(&self, scope_: &Scope, today: Date, f: &StatsFilter) -> Result<(i64, i64)> {
        const COUNT: &str = "SELECT COUNT(*) FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id WHERE ";
        let mut open = Sql::new(COUNT);
        open.push("c.completed_at IS NULL AND c.actors <> '' AND c.paused_ms IS NULL AND c.deadline < ")
            .text(today.to_string());
        scope::enterprises(&mut open, scope_);
        let n = |r: AnyRow| r.try_get::<i64, _>(0);
        let open_n = n(open.query().fetch_one(self.pool()).await?)?;
        let late_n = if whole_zone(scope_) {
            // The daily sums count the late completions of the whole zone without reading the cases.
            let mut s = Sql::new(
                "SELECT CAST(COALESCE(SUM(late), 0) AS BIGINT) FROM approval_stats_days WHERE completed_on >= ",
            );
            s.text(f.from.to_string()).push(" AND completed_on <= ").text(f.to.to_string());
            n(s.query().fetch_one(self.pool()).await?)?
        } else {
            let mut late = Sql::new(COUNT);
            late.push("c.completed_on >= ")
                .text(f.from.to_string())
                .push(" AND c.completed_on <= ")
                .text(f.to.to_string());
            late.push(" AND c.elapsed_days > c.limit_days");
            scope::enterprises(&mut late, scope_);
            n(late.query().fetch_one(self.pool()).await?)?
        };
        Ok((open_n, late_n))
    }

    pub async fn overdue_cases(
        &self,
        scope_: &Scope,
        cal: &Calendar,
        today: Date,
        f: &StatsFilter,
        max: i64,
    ) -> Result<(Vec<OverdueRow>, Vec<OverdueRow>)> {
        const SELECT: &str = "SELECT c.id, c.case_no, c.item_name, c.category, c.department, e.name AS enterprise_name, \
            c.state_name, c.agency, c.received_at, c.deadline, c.limit_days, c.completed_at, c.elapsed_days, \
            (SELECT COUNT(*) FROM approval_escalations x WHERE x.case_id = c.id AND x.level <> 'remind') AS escalations \
            FROM approval_cases c JOIN enterprises e ON e.id = c.enterprise_id WHERE ";
        let mut open = Sql::new(SELECT);
        open.push("c.completed_at IS NULL AND c.actors <> '' AND c.paused_ms IS NULL AND c.deadline < ")
            .text(today.to_string());
        scope::enterprises(&mut open, scope_);
        open.push(" ORDER BY c.deadline, c.id LIMIT ").i64(max);
        let mut late = Sql::new(SELECT);
        late.push("c.completed_on >= ").text(f.from.to_string()).push(" AND c.completed_on <= ").text(f.to.to_string());
        late.push(" AND c.elapsed_days > c.limit_days");
        scope::enterprises(&mut late, scope_);
        late.push(" ORDER BY c.elapsed_days - c.limit_days DESC, c.id LIMIT ").i64(max);
        let row = |r: &AnyRow, open: bool| -> Result<OverdueRow> {
            let deadline: Option<String> = r.try_get("deadline")?;
            let limit: i64 = r.try_get("limit_days")?;
            let days_over = if open {
                deadline
                    .as_deref()
                    .and_then(|d| Date::parse(d).ok())
                    .map_or(0, |d| i64::from(cal.working_days_between(d, today)))
            } else {
                r.try_get::<Option<i64>, _>("elapsed_days")?.unwrap_or(0) - limit
            };
            let category: String = r.try_get("category")?;
            Ok(OverdueRow {
                id: r.try_get("id")?,
                case_no: r.try_get("case_no")?,
                item_name: r.try_get("item_name")?,
                category: category_label(&category).to_owned(),
                department: r.try_get("department")?,
                enterprise_name: r.try_get("enterprise_name")?,
                state_name: r.try_get("state_name")?,
                agency: r.try_get::<i64, _>("agency")? != 0,
                received_at: r.try_get("received_at")?,
                deadline,
                limit_days: limit,
                completed_at: r.try_get("completed_at")?,
                days_over,
                escalations: r.try_get("escalations")?,
            })
        };
        let open_rows = open.fetch_all(self.pool()).await?.iter().map(|r| row(r, true)).collect::<Result<_>>()?;
        let late_rows = late.fetch_all(self.pool()).await?.iter().map(|r| row(r, false)).collect::<Result<_>>()?;
        Ok((open_rows, late_rows))
    }
}
