-- 好差评 sums by day and by month (评价日/月汇总) behind the whole zone's satisfaction figures: per
-- completion date of the rated cases, item, department and level, the latest ratings (which count for
-- satisfaction), every rating (bad ones are counted whether latest or not) and how many of them were
-- called back and rectified. Recomputed for the days a change touches, in the change's transaction.
CREATE TABLE approval_rating_days (
    completed_on TEXT NOT NULL,
    item_code TEXT NOT NULL,
    department TEXT NOT NULL,
    level BIGINT NOT NULL,
    latest BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    called_back BIGINT NOT NULL,
    rectified BIGINT NOT NULL,
    PRIMARY KEY (completed_on, item_code, department, level)
);

CREATE TABLE approval_rating_months (
    month TEXT NOT NULL,
    item_code TEXT NOT NULL,
    department TEXT NOT NULL,
    level BIGINT NOT NULL,
    latest BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    called_back BIGINT NOT NULL,
    rectified BIGINT NOT NULL,
    PRIMARY KEY (month, item_code, department, level)
);

INSERT INTO approval_rating_days (completed_on, item_code, department, level, latest, rated, called_back, rectified)
SELECT completed_on, item_code, department, level, SUM(latest), COUNT(*),
       SUM(CASE WHEN callback_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN rectified_at IS NOT NULL THEN 1 ELSE 0 END)
FROM approval_ratings
GROUP BY completed_on, item_code, department, level;

INSERT INTO approval_rating_months (month, item_code, department, level, latest, rated, called_back, rectified)
SELECT SUBSTR(completed_on, 1, 7), item_code, department, level, SUM(latest), SUM(rated), SUM(called_back), SUM(rectified)
FROM approval_rating_days
GROUP BY SUBSTR(completed_on, 1, 7), item_code, department, level;
