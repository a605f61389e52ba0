-- Approval statistics kept by month (审批统计月汇总): the daily sums of migration 0021 added up per
-- month, kept in the same transactions, so that a period of years reads whole months here and only
-- its partial first and last months from the daily sums.
CREATE TABLE approval_stats_months (
    month TEXT NOT NULL,
    category TEXT NOT NULL,
    item_code TEXT NOT NULL,
    department TEXT NOT NULL,
    n BIGINT NOT NULL,
    used BIGINT NOT NULL,
    longest BIGINT NOT NULL,
    promised BIGINT NOT NULL,
    statutory BIGINT NOT NULL,
    late BIGINT NOT NULL,
    PRIMARY KEY (month, category, item_code, department)
);

INSERT INTO approval_stats_months (month, category, item_code, department, n, used, longest, promised, statutory, late)
SELECT SUBSTR(completed_on, 1, 7), category, item_code, department, SUM(n), SUM(used), MAX(longest), SUM(promised),
       SUM(statutory), SUM(late)
FROM approval_stats_days
GROUP BY SUBSTR(completed_on, 1, 7), category, item_code, department;
