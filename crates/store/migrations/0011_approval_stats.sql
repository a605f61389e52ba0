-- Approval statistics (审批统计) and the escalation job (超期督办).
--
-- Each case keeps what the statistics group and sum by, so that they aggregate in SQL over millions of
-- completed cases without reading the item JSON or replaying the calendar: the item's category and
-- department and statutory limit (copied at filing), and at completion (办结) the instant, its Beijing
-- date and the working days used (pauses not counted, from the calendar in force at that moment).

ALTER TABLE approval_cases ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE approval_cases ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE approval_cases ADD COLUMN statutory_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE approval_cases ADD COLUMN completed_at BIGINT;
ALTER TABLE approval_cases ADD COLUMN completed_on TEXT;
ALTER TABLE approval_cases ADD COLUMN elapsed_days BIGINT;

UPDATE approval_cases SET category = (
    SELECT i.category FROM approval_items i WHERE i.code = approval_cases.item_code AND i.version = approval_cases.item_version
);

-- Covers every statistics query: a period's cases are read from the index alone.
CREATE INDEX approval_cases_completed ON approval_cases(
    completed_on, category, item_code, department, elapsed_days, limit_days, statutory_days
);
-- Open cases by deadline (the escalation job and the overdue list), without the completed ones.
CREATE INDEX approval_cases_open ON approval_cases(completed_at, deadline);

-- One escalation per case and level ('overdue': past the deadline; 'unaccepted': not accepted in
-- time); the job inserts with ON CONFLICT DO NOTHING, so running it again changes nothing.
CREATE TABLE approval_escalations (
    case_id BIGINT NOT NULL REFERENCES approval_cases(id),
    level TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (case_id, level)
);
