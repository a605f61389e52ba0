-- Approval statistics kept by day (审批统计日汇总): one row per completion date, category, item and
-- department with the sums the statistics need, added to when a case completes (办结, the first time
-- only) and by the bulk loader. The whole zone's statistics of a year read a few thousand of these
-- rows instead of every completed case; a narrower scope still reads its own cases (migration 0011).
CREATE TABLE approval_stats_days (
    completed_on TEXT NOT NULL,
    category TEXT NOT NULL,
    item_code TEXT NOT NULL,
    department TEXT NOT NULL,
    n BIGINT NOT NULL,
    used BIGINT NOT NULL,
    longest BIGINT NOT NULL,
    promised BIGINT NOT NULL,
    statutory BIGINT NOT NULL,
    late BIGINT NOT NULL,
    PRIMARY KEY (completed_on, category, item_code, department)
);

INSERT INTO approval_stats_days (completed_on, category, item_code, department, n, used, longest, promised, statutory, late)
SELECT completed_on, category, item_code, department, COUNT(*), COALESCE(SUM(elapsed_days), 0),
       COALESCE(MAX(elapsed_days), 0), COALESCE(SUM(limit_days), 0), COALESCE(SUM(statutory_days), 0),
       SUM(CASE WHEN elapsed_days > limit_days THEN 1 ELSE 0 END)
FROM approval_cases WHERE completed_on IS NOT NULL
GROUP BY completed_on, category, item_code, department;
