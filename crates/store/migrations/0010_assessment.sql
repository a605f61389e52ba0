-- Assessment points (县科学发展综合考核 加分) for newly landed projects: a dated rule table and yearly
-- quotas of projects per town or county department. Rules are never deleted, only ended (to_year),
-- so past years keep scoring by the rules then in force. Points in tenths.
CREATE TABLE assessment_rules (
    id {{ID}},
    kind TEXT NOT NULL CHECK (kind IN ('investment_tier', 'cleared_area', 'top500', 'quota_shortfall')),
    -- Fen for investment tiers, hundredths of m² for cleared area, 0 otherwise.
    threshold BIGINT NOT NULL DEFAULT 0,
    points_tenths BIGINT NOT NULL,
    from_year BIGINT NOT NULL,
    to_year BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The published examples (+4 per project ≥ 10亿元, +8 ≥ 50亿元, +10 per top-500 investor), a tier for a
-- county zone's typical projects, cleared-area points and a quota deduction; all editable.
INSERT INTO assessment_rules (kind, threshold, points_tenths, from_year, created_at, updated_at) VALUES
    ('investment_tier', 10000000000, 10, 2020, 0, 0),
    ('investment_tier', 100000000000, 40, 2020, 0, 0),
    ('investment_tier', 500000000000, 80, 2020, 0, 0),
    ('cleared_area', 3333333, 10, 2020, 0, 0),
    ('cleared_area', 6666667, 20, 2020, 0, 0),
    ('top500', 0, 100, 2020, 0, 0),
    ('quota_shortfall', 0, -20, 2020, 0, 0);
CREATE TABLE assessment_quotas (
    unit_kind TEXT NOT NULL CHECK (unit_kind IN ('town', 'department')),
    unit_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    projects BIGINT NOT NULL CHECK (projects >= 0),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (unit_kind, unit_code, year)
);
-- A project of a China-top-500 investor (中国500强), 0/1.
ALTER TABLE investment_projects ADD COLUMN top500 BIGINT NOT NULL DEFAULT 0;
