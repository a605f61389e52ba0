//! The daily sums of completed cases behind the whole zone's statistics (migration 0021): added to in
//! the transaction that completes a case, so they never drift from the cases themselves (a test
//! compares both ways of counting). The whole zone's statistics read them (`stats_from_days`).

use crate::error::Result;
use crate::sql::Sql;
use crate::{StatsFilter, StatsGroup, Store, Tx};
use sqlx::Row;
use std::collections::BTreeMap;

const INSERT: &str = "INSERT INTO approval_stats_days \
    (completed_on, category, item_code, department, n, used, longest, promised, statutory, late) \
    SELECT completed_on, category, item_code, department, COUNT(*), COALESCE(SUM(elapsed_days), 0), \
    COALESCE(MAX(elapsed_days), 0), COALESCE(SUM(limit_days), 0), COALESCE(SUM(statutory_days), 0), \
    SUM(CASE WHEN elapsed_days > limit_days THEN 1 ELSE 0 END) FROM approval_cases \
    WHERE completed_on IS NOT NULL AND id IN (";
const UPSERT: &str = ") GROUP BY completed_on, category, item_code, department \
    ON CONFLICT (completed_on, category, item_code, department) DO UPDATE SET \
    n = approval_stats_days.n + excluded.n, used = approval_stats_days.used + excluded.used, \
    longest = CASE WHEN excluded.longest > approval_stats_days.longest THEN excluded.longest \
        ELSE approval_stats_days.longest END, \
    promised = approval_stats_days.promised + excluded.promised, \
    statutory = approval_stats_days.statutory + excluded.statutory, \
    late = approval_stats_days.late + excluded.late";

/// Adds the given cases, just completed for the first time (or just loaded), to the daily sums.
pub(crate) async fn count_completions(tx: &mut Tx<'_>, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(1_000) {
        let mut s = Sql::new(INSERT);
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.i64(*id);
        }
        s.push(UPSERT);
        s.for_backend(tx.backend).query().execute(&mut *tx.tx).await?;
    }
    Ok(())
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
    /// order) from one read of the daily sums, grouped by month in SQL and folded here.
    pub(crate) async fn stats_from_days(&self, f: &StatsFilter) -> Result<[Vec<StatsGroup>; 5]> {
        let mut s = Sql::new(
            "SELECT SUBSTR(completed_on, 1, 7), category, item_code, department, CAST(SUM(n) AS BIGINT), \
             CAST(SUM(used) AS BIGINT), MAX(longest), CAST(SUM(promised) AS BIGINT), CAST(SUM(statutory) AS BIGINT), \
             CAST(SUM(late) AS BIGINT) FROM approval_stats_days WHERE completed_on >= ",
        );
        s.text(f.from.to_string()).push(" AND completed_on <= ").text(f.to.to_string());
        s.push(" GROUP BY SUBSTR(completed_on, 1, 7), category, item_code, department");
        let mut sets: [BTreeMap<String, Sums>; 5] = Default::default();
        for r in s.fetch_all(self.pool()).await? {
            let sums = Sums {
                n: r.try_get(4)?,
                used: r.try_get(5)?,
                longest: r.try_get(6)?,
                promised: r.try_get(7)?,
                statutory: r.try_get(8)?,
                late: r.try_get(9)?,
            };
            let keys: [String; 5] = ["合计".to_owned(), r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(0)?];
            for (set, key) in sets.iter_mut().zip(keys) {
                set.entry(key).or_default().add(&sums);
            }
        }
        Ok(sets.map(|set| set.iter().map(|(k, v)| v.group(k)).collect()))
    }
}
