//! The daily sums of completed cases behind the whole zone's statistics (migration 0021): added to in
//! the transaction that completes a case, so they never drift from the cases themselves (a test
//! compares both ways of counting).

use crate::Tx;
use crate::error::Result;
use crate::sql::Sql;

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
