//! Satisfaction figures (满意率) of the 好差评 ratings for the statistics page: the latest rating of each
//! case completed in the period, counted per level in total, per item and per department, and how many
//! bad ratings were called back and rectified. Each rating carries its case's item, department and
//! completion date (migration 0013), so a narrower scope's figures are one grouped read of the latest
//! ratings and a count of the bad ones; the whole zone's come from daily and monthly sums
//! (`approval_rating_sums.rs`, migration 0025).

use crate::approval_stats::StatsFilter;
use crate::error::Result;
use crate::sql::Sql;
use crate::{Store, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::rating::{Counts, Level};
use serde::Serialize;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// The ratings of one group (or of all).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SatisfactionGroup {
    pub key: String,
    pub label: String,
    pub counts: Counts,
    pub total: i64,
    pub bad: i64,
    /// 满意率 in percent (非常满意, 满意, 基本满意 among all), `None` without ratings.
    pub satisfaction: Option<f64>,
    /// Average score 1–5.
    pub average: Option<f64>,
}

impl SatisfactionGroup {
    fn new(key: String, label: String, counts: Counts) -> SatisfactionGroup {
        SatisfactionGroup {
            key,
            label,
            total: counts.total(),
            bad: counts.bad(),
            satisfaction: counts.satisfaction(),
            average: counts.average(),
            counts,
        }
    }
}

/// The satisfaction figures of a period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SatisfactionReport {
    pub total: SatisfactionGroup,
    pub by_item: Vec<SatisfactionGroup>,
    pub by_department: Vec<SatisfactionGroup>,
    /// Every bad rating of the period's cases (not only the latest), and how many of them were called
    /// back and rectified (target 100 %).
    pub bad_ratings: i64,
    pub called_back: i64,
    pub rectified: i64,
}

fn whole_zone(scope_: &Scope) -> bool {
    matches!(scope_, Scope::Zone | Scope::Department(_))
}

/// `FROM approval_ratings r` with the enterprise join only where the scope needs it.
fn from(s: &mut Sql, scope_: &Scope, f: &StatsFilter) {
    if whole_zone(scope_) {
        s.push(" FROM approval_ratings r WHERE r.completed_on >= ");
    } else {
        s.push(" FROM approval_ratings r JOIN enterprises e ON e.id = r.enterprise_id WHERE r.completed_on >= ");
    }
    s.text(f.from.to_string()).push(" AND r.completed_on <= ").text(f.to.to_string());
    if !whole_zone(scope_) {
        scope::enterprises(s, scope_);
    }
}

impl Store {
    /// The latest ratings' counts per item, department and level: one grouped read of the covering
    /// index `approval_ratings_stats`, folded into the total and both groupings.
    async fn satisfaction_counts(&self, scope_: &Scope, f: &StatsFilter) -> Result<Vec<(String, String, Level, i64)>> {
        let mut s = Sql::new("SELECT r.item_code, r.department, r.level, COUNT(*) AS n");
        from(&mut s, scope_, f);
        s.push(" AND r.latest = 1 GROUP BY r.item_code, r.department, r.level");
        let mut out = Vec::new();
        for r in s.fetch_all(self.pool()).await? {
            if let Some(level) = Level::from_score(r.try_get(2)?) {
                out.push((r.try_get(0)?, r.try_get(1)?, level, r.try_get(3)?));
            }
        }
        Ok(out)
    }

    /// The satisfaction figures of the cases in scope completed in the period (module docs); the
    /// whole zone's from the daily and monthly sums (`approval_rating_sums.rs`).
    pub async fn satisfaction_stats(&self, scope_: &Scope, f: &StatsFilter) -> Result<SatisfactionReport> {
        if !whole_zone(scope_) {
            return self.satisfaction_stats_counted(scope_, f).await;
        }
        let mut latest = Vec::new();
        let (mut bad_ratings, mut called_back, mut rectified) = (0, 0, 0);
        for (item, department, score, n, rated, called, fixed) in self.rating_sums(f).await? {
            let Some(level) = Level::from_score(score) else { continue };
            latest.push((item, department, level, n));
            if level.is_bad() {
                bad_ratings += rated;
                called_back += called;
                rectified += fixed;
            }
        }
        self.satisfaction_report(latest, (bad_ratings, called_back, rectified)).await
    }

    /// [`Store::satisfaction_stats`] counted from the ratings themselves (every narrower scope; and
    /// the tests' check of the sums).
    pub async fn satisfaction_stats_counted(&self, scope_: &Scope, f: &StatsFilter) -> Result<SatisfactionReport> {
        let latest = self.satisfaction_counts(scope_, f).await?;
        let mut s = Sql::new(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN r.callback_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN r.rectified_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT)",
        );
        from(&mut s, scope_, f);
        s.push(" AND r.bad = 1");
        let r = s.query().fetch_one(self.pool()).await?;
        self.satisfaction_report(latest, (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)).await
    }

    /// The report from the latest ratings' counts and the bad ratings' (all, called back, rectified).
    async fn satisfaction_report(
        &self,
        latest: Vec<(String, String, Level, i64)>,
        (bad_ratings, called_back, rectified): (i64, i64, i64),
    ) -> Result<SatisfactionReport> {
        let mut total = Counts::default();
        let mut items: BTreeMap<String, Counts> = BTreeMap::new();
        let mut departments: BTreeMap<String, Counts> = BTreeMap::new();
        for (item, department, level, n) in latest {
            total.add(level, n);
            items.entry(item).or_default().add(level, n);
            departments.entry(department).or_default().add(level, n);
        }
        let names: HashMap<String, String> = sqlx::query("SELECT code, name FROM approval_items WHERE active = 1")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        let by_item = items
            .into_iter()
            .map(|(k, c)| SatisfactionGroup::new(k.clone(), names.get(&k).cloned().unwrap_or(k), c))
            .collect();
        let by_department = departments.into_iter().map(|(k, c)| SatisfactionGroup::new(k.clone(), k, c)).collect();
        Ok(SatisfactionReport {
            total: SatisfactionGroup::new("all".into(), "合计".into(), total),
            by_item,
            by_department,
            bad_ratings,
            called_back,
            rectified,
        })
    }
}
