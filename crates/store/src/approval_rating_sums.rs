//! The daily and monthly sums of the 好差评 ratings behind the whole zone's satisfaction figures
//! (migration 0025), beside the case sums of `approval_stats_days.rs`. A rating changes after it is
//! given (a later rating takes over as the latest, a call-back and a rectification are recorded), so
//! the sums are not added to but recomputed, for the completion days of the cases a change touches,
//! in the change's transaction: a day holds a few hundred ratings, a month a few thousand rows of
//! daily sums. A test compares the sums with counting the ratings themselves.

use crate::approval_stats_days::period_parts;
use crate::error::Result;
use crate::{StatsFilter, Store, Tx};
use dianxiaoer_core::approval::Date;
use sqlx::Row;
use std::collections::BTreeSet;

/// One group of the sums: (item, department, level, latest, rated, called back, rectified).
pub(crate) type SumRow = (String, String, i64, i64, i64, i64, i64);

/// `'a', 'b'` of dates of our own making (checked to be dates), for `IN`.
fn date_list(days: &[String]) -> String {
    days.iter().map(|d| format!("'{d}'")).collect::<Vec<_>>().join(", ")
}

/// Recomputes the sums of the completion days (and their months) of the ratings of `cases`.
pub(crate) async fn refresh_rating_sums(tx: &mut Tx<'_>, cases: &[i64]) -> Result<()> {
    let mut days = BTreeSet::new();
    for chunk in cases.chunks(1_000) {
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT DISTINCT completed_on FROM approval_ratings WHERE case_id IN ({ids})");
        for r in sqlx::query(&sql).fetch_all(&mut *tx.tx).await? {
            let day: String = r.try_get(0)?;
            // Only well-formed dates go into the statement text below.
            if Date::parse(&day).is_ok() {
                days.insert(day);
            }
        }
    }
    let days: Vec<String> = days.into_iter().collect();
    for chunk in days.chunks(500) {
        let list = date_list(chunk);
        sqlx::query(&format!("DELETE FROM approval_rating_days WHERE completed_on IN ({list})"))
            .execute(&mut *tx.tx)
            .await?;
        // `latest IN (0, 1)` lets both backends walk the stats index by completion date.
        sqlx::query(&format!(
            "INSERT INTO approval_rating_days (completed_on, item_code, department, level, latest, rated, \
             called_back, rectified) SELECT completed_on, item_code, department, level, SUM(latest), COUNT(*), \
             SUM(CASE WHEN callback_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN rectified_at IS NOT NULL THEN 1 ELSE 0 END) FROM approval_ratings \
             WHERE latest IN (0, 1) AND completed_on IN ({list}) GROUP BY completed_on, item_code, department, level"
        ))
        .execute(&mut *tx.tx)
        .await?;
    }
    let months: BTreeSet<&str> = days.iter().filter_map(|d| d.get(..7)).collect();
    for month in months {
        sqlx::query("DELETE FROM approval_rating_months WHERE month = $1")
            .bind(month.to_owned())
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(
            "INSERT INTO approval_rating_months (month, item_code, department, level, latest, rated, called_back, \
             rectified) SELECT $1, item_code, department, level, SUM(latest), SUM(rated), SUM(called_back), \
             SUM(rectified) FROM approval_rating_days WHERE completed_on >= $2 AND completed_on <= $3 \
             GROUP BY item_code, department, level",
        )
        .bind(month.to_owned())
        .bind(format!("{month}-01"))
        .bind(format!("{month}-31"))
        .execute(&mut *tx.tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// The whole zone's rating sums of a period per item, department and level: whole months from the
    /// monthly sums, the partial first and last months from the daily ones.
    pub(crate) async fn rating_sums(&self, f: &StatsFilter) -> Result<Vec<SumRow>> {
        let mut out = Vec::new();
        for (table, column, lo, hi) in period_parts(f, ("approval_rating_days", "approval_rating_months")) {
            let sql = format!(
                "SELECT item_code, department, level, CAST(SUM(latest) AS BIGINT), CAST(SUM(rated) AS BIGINT), \
                 CAST(SUM(called_back) AS BIGINT), CAST(SUM(rectified) AS BIGINT) FROM {table} \
                 WHERE {column} >= $1 AND {column} <= $2 GROUP BY item_code, department, level"
            );
            for r in sqlx::query(&sql).bind(lo).bind(hi).fetch_all(self.pool()).await? {
                out.push((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                    r.try_get(6)?,
                ));
            }
        }
        Ok(out)
    }
}
