-- The approval plan of an investment project (压茬审批): the catalogue items it needs across the four
-- construction stages, each linked to the approval case filed for it, and the prerequisite edges
-- between them. The plan hangs on the investment project itself (招商项目, one record), and a case
-- serves at most one plan item.
CREATE TABLE approval_plan_items (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES investment_projects(id),
    item_code TEXT NOT NULL,
    case_id BIGINT REFERENCES approval_cases(id),
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, item_code)
);
CREATE UNIQUE INDEX approval_plan_items_case ON approval_plan_items(case_id);

-- `item_code` may be decided only after `requires_code` is granted (准予); both are items of the
-- same project's plan (checked by the store with the core's plan rules).
CREATE TABLE approval_plan_edges (
    project_id BIGINT NOT NULL REFERENCES investment_projects(id),
    item_code TEXT NOT NULL,
    requires_code TEXT NOT NULL,
    PRIMARY KEY (project_id, item_code, requires_code)
);
