-- Enclave economy (飞地经济), first slice: investment projects with their introducer and host town,
-- sharing agreements, and the tax ledger imported from the tax bureau's sheets.
-- Integers only: money in fen, area in hundredths of a square metre, flags 0/1; months as 'YYYY-MM',
-- dates as 'YYYY-MM-DD'.

CREATE TABLE investment_projects (
    id {{ID}},
    name TEXT NOT NULL,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    -- The introducer (引资单位): a town, a county department, or neither (the zone's own project).
    introducer_town TEXT REFERENCES towns(code),
    introducer_department BIGINT REFERENCES departments(id),
    host_town TEXT NOT NULL REFERENCES towns(code),
    planned_investment_fen BIGINT NOT NULL DEFAULT 0,
    planned_fixed_assets_fen BIGINT NOT NULL DEFAULT 0,
    actual_investment_fen BIGINT NOT NULL DEFAULT 0,
    actual_fixed_assets_fen BIGINT NOT NULL DEFAULT 0,
    -- 清理地上附着物面积.
    cleared_area_centi_m2 BIGINT NOT NULL DEFAULT 0,
    signed_on TEXT NOT NULL,
    landed_on TEXT,
    stage TEXT NOT NULL CHECK (stage IN ('signed', 'landed', 'started', 'producing')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (introducer_town IS NULL OR introducer_department IS NULL)
);
CREATE INDEX investment_projects_enterprise ON investment_projects(enterprise_id);
CREATE INDEX investment_projects_host ON investment_projects(host_town);
CREATE INDEX investment_projects_introducer_town ON investment_projects(introducer_town);
CREATE INDEX investment_projects_introducer_department ON investment_projects(introducer_department);

-- Ratio introducer : host : zone in tenths, in force from a month up to and including another (or
-- open-ended); never two of one project in the same month (checked by the store with core rules).
CREATE TABLE sharing_agreements (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES investment_projects(id),
    introducer BIGINT NOT NULL,
    host BIGINT NOT NULL,
    zone BIGINT NOT NULL,
    from_period TEXT NOT NULL,
    to_period TEXT,
    CHECK (introducer >= 0 AND host >= 0 AND zone >= 0 AND introducer + host + zone = 10)
);
CREATE INDEX sharing_agreements_project ON sharing_agreements(project_id);

-- One row per imported sheet. The file's SHA-256 is unique: importing the same file again changes
-- nothing.
CREATE TABLE tax_imports (
    id {{ID}},
    at BIGINT NOT NULL,
    user_id BIGINT,
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    file_sha256 TEXT NOT NULL UNIQUE,
    rows BIGINT NOT NULL DEFAULT 0,
    total_fen BIGINT NOT NULL DEFAULT 0
);

-- The tax ledger: one row per payment (refunds negative). `period` is the settlement month (the last
-- month of the tax period); `row_key` is the SHA-256 of the row's duplicate key (core
-- `TaxRow::duplicate_key`), unique so that overlapping exports cannot count a payment twice.
CREATE TABLE tax_ledger (
    id {{ID}},
    import_id BIGINT NOT NULL REFERENCES tax_imports(id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    credit_code TEXT NOT NULL,
    period TEXT NOT NULL,
    tax_type TEXT NOT NULL,
    tax_item TEXT,
    amount_fen BIGINT NOT NULL,
    retained_basis_points BIGINT,
    voucher_kind TEXT NOT NULL CHECK (voucher_kind IN ('receipt', 'refund')),
    row_no BIGINT NOT NULL,
    row_key TEXT NOT NULL
);
CREATE INDEX tax_ledger_period ON tax_ledger(period);
CREATE INDEX tax_ledger_enterprise_period ON tax_ledger(enterprise_id, period);
CREATE INDEX tax_ledger_import ON tax_ledger(import_id);
CREATE UNIQUE INDEX tax_ledger_row_key ON tax_ledger(row_key);
