-- Independent approval (独立审批): the item catalogue with its versions, each version's workflow, the
-- applications (办件) and their transitions. Integers only (flags 0/1, instants in epoch ms); dates
-- 'YYYY-MM-DD' in Beijing; lists of material names as JSON arrays in TEXT.

-- One row per version of an item; `item_json` is core's ApprovalItem. Exactly one version of a code is
-- active (the published guide); a case keeps the version it was filed under.
CREATE TABLE approval_items (
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    item_json TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX approval_items_active ON approval_items(active, category, code);

-- The workflow of one item version (core's Workflow as JSON).
CREATE TABLE approval_workflows (
    item_code TEXT NOT NULL,
    item_version BIGINT NOT NULL,
    flow_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (item_code, item_version),
    FOREIGN KEY (item_code, item_version) REFERENCES approval_items(code, version)
);

-- The last case number given per year (SP2026-000123).
CREATE TABLE approval_counters (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE approval_cases (
    id {{ID}},
    case_no TEXT NOT NULL UNIQUE,
    item_code TEXT NOT NULL,
    item_version BIGINT NOT NULL,
    item_name TEXT NOT NULL,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    -- The user who filed it: the enterprise's own user, or staff / a grid officer (agency = 1, 帮代办).
    applicant_id BIGINT NOT NULL REFERENCES users(id),
    agency BIGINT NOT NULL DEFAULT 0 CHECK (agency IN (0, 1)),
    state TEXT NOT NULL,
    state_name TEXT NOT NULL,
    -- Who may act in the current state, as ',code,code,' (role codes and 'applicant'), for the inbox.
    actors TEXT NOT NULL,
    -- Material names handed in, and the non-key ones still missing under 容缺受理.
    materials TEXT NOT NULL,
    missing TEXT NOT NULL DEFAULT '[]',
    -- The promised limit of the item version, in working days.
    limit_days BIGINT NOT NULL,
    -- Acceptance (受理): when the clock started, and the deadline it gives with the pauses so far.
    received_at BIGINT,
    deadline TEXT,
    -- Start of the running pause (补正), NULL while the clock is not paused.
    paused_ms BIGINT,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (item_code, item_version) REFERENCES approval_items(code, version)
);
CREATE INDEX approval_cases_enterprise ON approval_cases(enterprise_id);
CREATE INDEX approval_cases_state ON approval_cases(state);
CREATE INDEX approval_cases_item ON approval_cases(item_code);

-- The pauses of a case's clock; `until_ms` NULL while running.
CREATE TABLE approval_case_pauses (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES approval_cases(id),
    from_ms BIGINT NOT NULL,
    until_ms BIGINT
);
CREATE INDEX approval_case_pauses_case ON approval_case_pauses(case_id);

-- Every transition (and the filing), with the working days left of the limit at that moment.
CREATE TABLE approval_case_events (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES approval_cases(id),
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_name TEXT NOT NULL,
    -- 'applicant' or the role code the action was taken as.
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    action_name TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    sla_left_days BIGINT
);
CREATE INDEX approval_case_events_case ON approval_case_events(case_id, id);
