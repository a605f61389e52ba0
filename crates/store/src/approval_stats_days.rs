//! The daily and monthly sums of completed cases behind the whole zone's statistics (migrations 0021,
//! 0023): added to in the transaction that completes a case, so they never drift from the cases
//! themselves (a test compares both ways of counting). The whole zone's statistics read whole months
//! from the monthly sums and the partial first and last months from the daily ones
//! (`stats_from_days`).

use crate::error::Result;
use crate::{StatsFilter, StatsGroup, Store, Tx};
use dianxiaoer_core::approval::Date;
use sqlx::Row;
use std::collections::BTreeMap;

/// (table, its date column, the expression of a case's completion in that column).
const TABLES: [(&str, &str, &str); 2] = [
    ("approval_stats_days", "completed_on", "completed_on"),
    ("approval_stats_months", "month", "SUBSTR(completed_on, 1, 7)"),
];

/// `ids`: the cases, a comma-separated list of integers of our own.
fn upsert_text(table: &str, column: &str, expr: &str, ids: &str) -> String {
    format!(
        "INSERT INTO {table} ({column}, category, item_code, department, n, used, longest, promised, statutory, late) \
         SELECT {expr}, category, item_code, department, COUNT(*), COALESCE(SUM(elapsed_days), 0), \
         COALESCE(MAX(elapsed_days), 0), COALESCE(SUM(limit_days), 0), COALESCE(SUM(statutory_days), 0), \
         SUM(CASE WHEN elapsed_days > limit_days THEN 1 ELSE 0 END) FROM approval_cases \
         WHERE completed_on IS NOT NULL AND id IN ({ids}) GROUP BY {expr}, category, item_code, department \
         ON CONFLICT ({column}, category, item_code, department) DO UPDATE SET \
         n = {table}.n + excluded.n, used = {table}.used + excluded.used, \
         longest = CASE WHEN excluded.longest > {table}.longest THEN excluded.longest ELSE {table}.longest END, \
         promised = {table}.promised + excluded.promised, statutory = {table}.statutory + excluded.statutory, \
         late = {table}.late + excluded.late"
    )
}

/// Adds the given cases, just completed for the first time (or just loaded), to the daily and
/// monthly sums.
pub(crate) async fn count_completions(tx: &mut Tx<'_>, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(1_000) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        for (table, column, expr) in TABLES {
            sqlx::query(&upsert_text(table, column, expr, &list)).execute(&mut *tx.tx).await?;
        }
    }
    Ok(())
}

/// The whole months within `[from, to]`, as ("YYYY-MM" of the first, of the last), if any.
fn whole_months(from: Date, to: Date) -> Option<(Date, Date)> {
    let first = if from.day() == 1 { from } else { month_after(from)? };
    let after_to = to.add_days(1);
    let last_start = if after_to.day() == 1 { Date::new(to.year(), to.month(), 1)? } else { month_start_before(to)? };
    (first <= last_start).then_some((first, last_start))
}

fn month_after(d: Date) -> Option<Date> {
    if d.month() == 12 { Date::new(d.year() + 1, 1, 1) } else { Date::new(d.year(), d.month() + 1, 1) }
}

/// The first day of the month before `d`'s.
fn month_start_before(d: Date) -> Option<Date> {
    if d.month() == 1 { Date::new(d.year() - 1, 12, 1) } else { Date::new(d.year(), d.month() - 1, 1) }
}

fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// (table, date column, inclusive range) of each part of the period `f`: the partial first month
/// from the daily sums, the whole months from the monthly ones, the partial last month from the
/// daily ones again. `tables`: (daily, monthly); their date columns are `completed_on` and `month`.
pub(crate) fn period_parts(
    f: &StatsFilter,
    (days, months): (&'static str, &'static str),
) -> Vec<(&'static str, &'static str, String, String)> {
    let mut parts = Vec::new();
    match whole_months(f.from, f.to) {
        Some((first, last)) => {
            if f.from < first {
                parts.push((days, "completed_on", f.from.to_string(), first.add_days(-1).to_string()));
            }
            parts.push((months, "month", month_key(first), month_key(last)));
            let after_last = month_after(last).unwrap_or(last);
            if after_last <= f.to {
                parts.push((days, "completed_on", after_last.to_string(), f.to.to_string()));
            }
        }
        None => parts.push((days, "completed_on", f.from.to_string(), f.to.to_string())),
    }
    parts
}

/// The sums of one group.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: i64,
    used: i64,
    longest: i64,
    promised: i64,
    statutory: i64,
    late: i64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.n += o.n;
        self.used += o.used;
        self.longest = self.longest.max(o.longest);
        self.promised += o.promised;
        self.statutory += o.statutory;
        self.late += o.late;
    }

    fn group(&self, key: &str) -> StatsGroup {
        let avg = |x: i64| if self.n == 0 { 0.0 } else { x as f64 / self.n as f64 };
        StatsGroup {
            key: key.to_owned(),
            label: key.to_owned(),
            count: self.n,
            avg_elapsed: avg(self.used),
            max_elapsed: self.longest,
            avg_promised: avg(self.promised),
            avg_statutory: avg(self.statutory),
            overdue: self.late,
            efficiency: (self.statutory > 0)
                .then(|| (self.statutory - self.used) as f64 * 100.0 / self.statutory as f64),
        }
    }
}

impl Store {
    /// The whole zone's figures of a period (total, category, item, department, month, each in key
    /// order) from the sums, two grouped reads per part of the period: by category, item and
    /// department (total, category, item and department fold from it), and by month. Grouping by
    /// month and item at once would hand thousands of rows through the driver for six years.
    pub(crate) async fn stats_from_days(&self, f: &StatsFilter) -> Result<[Vec<StatsGroup>; 5]> {
        const SUMS: &str = "CAST(SUM(n) AS BIGINT), CAST(SUM(used) AS BIGINT), MAX(longest), \
             CAST(SUM(promised) AS BIGINT), CAST(SUM(statutory) AS BIGINT), CAST(SUM(late) AS BIGINT)";
        let mut sets: [BTreeMap<String, Sums>; 5] = Default::default();
        let sums = |r: &sqlx::any::AnyRow, at: usize| -> Result<Sums> {
            Ok(Sums {
                n: r.try_get(at)?,
                used: r.try_get(at + 1)?,
                longest: r.try_get(at + 2)?,
                promised: r.try_get(at + 3)?,
                statutory: r.try_get(at + 4)?,
                late: r.try_get(at + 5)?,
            })
        };
        for (table, column, lo, hi) in period_parts(f, ("approval_stats_days", "approval_stats_months")) {
            let groups = format!(
                "SELECT category, item_code, department, {SUMS} FROM {table} WHERE {column} >= $1 AND {column} <= $2 \
                 GROUP BY category, item_code, department"
            );
            for r in sqlx::query(&groups).bind(lo.clone()).bind(hi.clone()).fetch_all(self.pool()).await? {
                let s = sums(&r, 3)?;
                let keys: [String; 4] = ["合计".to_owned(), r.try_get(0)?, r.try_get(1)?, r.try_get(2)?];
                for (set, key) in sets.iter_mut().zip(keys) {
                    set.entry(key).or_default().add(&s);
                }
            }
            let months = format!(
                "SELECT SUBSTR({column}, 1, 7), {SUMS} FROM {table} WHERE {column} >= $1 AND {column} <= $2 \
                 GROUP BY SUBSTR({column}, 1, 7)"
            );
            for r in sqlx::query(&months).bind(lo).bind(hi).fetch_all(self.pool()).await? {
                let s = sums(&r, 1)?;
                sets[4].entry(r.try_get(0)?).or_default().add(&s);
            }
        }
        Ok(sets.map(|set| set.iter().map(|(k, v)| v.group(k)).collect()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn whole_months_of_a_period() {
        assert_eq!(whole_months(d(2021, 3, 1), d(2021, 3, 31)), Some((d(2021, 3, 1), d(2021, 3, 1))));
        assert_eq!(whole_months(d(2021, 2, 15), d(2021, 3, 20)), None);
        assert_eq!(whole_months(d(2021, 2, 15), d(2021, 5, 20)), Some((d(2021, 3, 1), d(2021, 4, 1))));
        assert_eq!(whole_months(d(2020, 1, 1), d(2025, 12, 31)), Some((d(2020, 1, 1), d(2025, 12, 1))));
        assert_eq!(whole_months(d(2021, 12, 2), d(2022, 1, 31)), Some((d(2022, 1, 1), d(2022, 1, 1))));
        assert_eq!(whole_months(d(2026, 11, 27), d(2026, 11, 27)), None);
        assert_eq!(month_key(d(2021, 3, 9)), "2021-03");
    }
}
