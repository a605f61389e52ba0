-- After the decision (事后环节): 告知承诺 with its post-approval check, the follow-up (回访) of a
-- completed case, and the 好差评 ratings with the call-back and rectification of a bad one. Integers
-- only (flags 0/1, levels 1-5, instants in epoch ms); dates 'YYYY-MM-DD' in Beijing.

-- The applicant's written commitment (告知承诺书), one per case, and the check its decision schedules.
CREATE TABLE approval_commitments (
    case_id BIGINT PRIMARY KEY REFERENCES approval_cases(id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    text TEXT NOT NULL,
    committed_by BIGINT REFERENCES users(id),
    committed_name TEXT NOT NULL,
    committed_at BIGINT NOT NULL,
    -- Set by 告知承诺准予: when, and the check's due date with the working days it was given.
    decided_at BIGINT,
    check_due TEXT,
    check_days BIGINT,
    -- The check: NULL while pending, then 'passed' or 'failed' with the method and the findings.
    result TEXT CHECK (result IN ('passed', 'failed')),
    method TEXT,
    findings TEXT NOT NULL DEFAULT '',
    checked_by BIGINT REFERENCES users(id),
    checked_name TEXT,
    checked_at BIGINT
);
-- Pending checks by due date (the list and the escalation job).
CREATE INDEX approval_commitments_due ON approval_commitments(result, check_due);

-- The follow-up's due date, set when the case reaches 办结.
ALTER TABLE approval_cases ADD COLUMN follow_up_due TEXT;
CREATE INDEX approval_cases_follow_up ON approval_cases(state, follow_up_due);

-- Every rating of a case; `latest` marks the one that counts. The case's item, department and
-- completion date are copied so that the satisfaction figures group one table.
CREATE TABLE approval_ratings (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES approval_cases(id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    item_code TEXT NOT NULL,
    department TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    level BIGINT NOT NULL CHECK (level BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    rated_by BIGINT REFERENCES users(id),
    rated_name TEXT NOT NULL,
    rated_at BIGINT NOT NULL,
    latest BIGINT NOT NULL CHECK (latest IN (0, 1)),
    bad BIGINT NOT NULL CHECK (bad IN (0, 1)),
    -- A bad rating: the call-back (回访核实) and the rectification (整改), due and done.
    callback_due TEXT,
    callback_at BIGINT,
    callback_by BIGINT REFERENCES users(id),
    callback_name TEXT,
    callback_note TEXT NOT NULL DEFAULT '',
    rectify_due TEXT,
    rectified_at BIGINT,
    rectified_by BIGINT REFERENCES users(id),
    rectified_name TEXT,
    rectify_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approval_ratings_case ON approval_ratings(case_id, id);
CREATE INDEX approval_ratings_stats ON approval_ratings(latest, completed_on, item_code, department, level);
CREATE INDEX approval_ratings_open ON approval_ratings(bad, rectified_at, callback_at);
