-- Enclave economy (飞地经济), settlement: the configured county-retained shares, settlements of a
-- month (drafted, reviewed, confirmed) with their balanced ledger entries, and where a project's host
-- town was before it moved. Integers only: money in fen, shares in hundredths of a percent, ratios in
-- tenths; months as 'YYYY-MM'; times as epoch milliseconds.

-- The county-retained share (县级留成) of a tax type that is subject to sharing, used for rows whose
-- sheet carries no 预算分配比例. Never two rules of one tax type in the same month (checked by the
-- store with the core's RetainedShareTable).
CREATE TABLE retained_share_rules (
    id {{ID}},
    tax_type TEXT NOT NULL,
    basis_points BIGINT NOT NULL CHECK (basis_points >= 0 AND basis_points <= 10000),
    from_period TEXT NOT NULL,
    to_period TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX retained_share_rules_tax_type ON retained_share_rules(tax_type);

-- Defaults, configurable on /revenue/retained-shares. Source: the county shares in the 预算分配比例 of
-- the tax bureau's export in crates/core/tests/data (增值税 中央50%,省10%,市10%,县30%; 企业所得税
-- 中央60%,省8%,市8%,县24%; 城镇土地使用税, 房产税, 印花税 县100%). Assumed, to be checked against the
-- county's 财政体制: 个人所得税 like 企业所得税 (the same 60 : 40 central split); the other local taxes
-- 100 %; 消费税 and 车辆购置税 are central taxes, 0 %. Starting months: 增值税 2016-05 (全面营改增, the
-- 50 : 50 split), 企业所得税 and 个人所得税 2003-01 (the 60 : 40 split), the others 1994-01 (分税制).
INSERT INTO retained_share_rules (tax_type, basis_points, from_period, to_period, note, created_at, created_by) VALUES
    ('增值税', 3000, '2016-05', NULL, '默认：样例导出 中央50%,省10%,市10%,县30%', 0, 'migration'),
    ('企业所得税', 2400, '2003-01', NULL, '默认：样例导出 中央60%,省8%,市8%,县24%', 0, 'migration'),
    ('个人所得税', 2400, '2003-01', NULL, '默认（假定同企业所得税），请核对', 0, 'migration'),
    ('城镇土地使用税', 10000, '1994-01', NULL, '默认：样例导出 县100%', 0, 'migration'),
    ('房产税', 10000, '1994-01', NULL, '默认：样例导出 县100%', 0, 'migration'),
    ('印花税', 10000, '1994-01', NULL, '默认：样例导出 县100%', 0, 'migration'),
    ('城市维护建设税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('资源税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('土地增值税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('车船税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('耕地占用税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('契税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('烟叶税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('环境保护税', 10000, '1994-01', NULL, '默认（地方税，假定全额留县），请核对', 0, 'migration'),
    ('消费税', 0, '1994-01', NULL, '默认：中央税，县级无留成', 0, 'migration'),
    ('车辆购置税', 0, '1994-01', NULL, '默认：中央税，县级无留成', 0, 'migration');

-- One settlement per month: drafted, reviewed by another user (four eyes), confirmed by leadership.
-- A confirmed settlement is never changed: the store has no path that updates or deletes it or its
-- entries; corrections are adjustment entries of the next open month.
CREATE TABLE settlements (
    id {{ID}},
    period TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'reviewed', 'confirmed')),
    drafted_at BIGINT NOT NULL,
    drafted_by BIGINT,
    drafted_by_name TEXT NOT NULL,
    reviewed_at BIGINT,
    reviewed_by BIGINT,
    reviewed_by_name TEXT,
    confirmed_at BIGINT,
    confirmed_by BIGINT,
    confirmed_by_name TEXT,
    -- Debits of all entries (the shareable tax shared), the lines written, the ledger rows considered.
    total_fen BIGINT NOT NULL,
    entry_count BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    adjustment_count BIGINT NOT NULL,
    unshared_count BIGINT NOT NULL,
    -- The county-retained amount left unshared (where known).
    unshared_fen BIGINT NOT NULL
);

-- The credit lines of the balanced entries: one per unit per entry. An entry (entry_no) debits
-- `debit_fen` of one ledger row's shareable amount for one project from the pool of tax to share; its
-- lines credit the units and sum to `debit_fen` exactly. `weight` is the unit's tenths of `ratio`
-- (introducer : host : zone), merged when one unit holds two roles.
CREATE TABLE settlement_entries (
    id {{ID}},
    settlement_id BIGINT NOT NULL REFERENCES settlements(id),
    entry_no BIGINT NOT NULL,
    ledger_id BIGINT NOT NULL REFERENCES tax_ledger(id),
    project_id BIGINT NOT NULL REFERENCES investment_projects(id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    tax_type TEXT NOT NULL,
    ratio TEXT NOT NULL,
    unit_kind TEXT NOT NULL CHECK (unit_kind IN ('town', 'department', 'zone')),
    unit_code TEXT NOT NULL,
    weight BIGINT NOT NULL,
    debit_fen BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    -- For an adjustment: the confirmed month whose tax the entry corrects.
    adjusts_period TEXT
);
CREATE INDEX settlement_entries_settlement_unit ON settlement_entries(settlement_id, unit_kind, unit_code);
CREATE INDEX settlement_entries_ledger ON settlement_entries(ledger_id);

-- Ledger rows a settlement considered but did not share, with the reason.
CREATE TABLE settlement_unshared (
    id {{ID}},
    settlement_id BIGINT NOT NULL REFERENCES settlements(id),
    ledger_id BIGINT NOT NULL REFERENCES tax_ledger(id),
    shareable_fen BIGINT,
    reason TEXT NOT NULL,
    adjusts_period TEXT
);
CREATE INDEX settlement_unshared_settlement ON settlement_unshared(settlement_id);
CREATE INDEX settlement_unshared_ledger ON settlement_unshared(ledger_id);

-- Where a project's host town was before it moved (落地单位变更): `host_town` hosted it up to and
-- including `to_period`; the project's current host (investment_projects.host_town) from the month
-- after the last move. Settlement builds the core's HostHistory from these.
CREATE TABLE project_host_moves (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES investment_projects(id),
    host_town TEXT NOT NULL REFERENCES towns(code),
    to_period TEXT NOT NULL,
    moved_at BIGINT NOT NULL,
    UNIQUE (project_id, to_period)
);
