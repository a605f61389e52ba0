-- A settlement's credits as one row per balanced entry (project, enterprise, month adjusted) with the
-- up to three units it credits in columns, instead of one line per entry and unit (issue 5, Measure:
-- 300,000 lines a month at 10⁵ enterprises were a quarter of a draft's time). Each slot holds a unit
-- as statements name it ("town:371323103", "dept:4", "zone"), its weight (tenths of `ratio`, merged
-- when one unit holds two roles) and, over the ledger rows that credited it, the rows, the tax paid
-- (实缴), the shareable part and the unit's share. Slots are filled in order; an entry crediting fewer
-- units leaves the last ones NULL. `debit_fen` is the entry's debit: the slots' amounts sum to it.
-- Project and enterprise are not foreign keys, as in 0018's layout.
CREATE TABLE settlement_entries (
    id {{ID}},
    settlement_id BIGINT NOT NULL REFERENCES settlements(id),
    project_id BIGINT NOT NULL,
    enterprise_id BIGINT NOT NULL,
    adjusts_period TEXT,
    ratio TEXT NOT NULL,
    debit_fen BIGINT NOT NULL,
    unit1 TEXT NOT NULL,
    weight1 BIGINT NOT NULL,
    rows1 BIGINT NOT NULL,
    tax1_fen BIGINT NOT NULL,
    debit1_fen BIGINT NOT NULL,
    amount1_fen BIGINT NOT NULL,
    unit2 TEXT,
    weight2 BIGINT,
    rows2 BIGINT,
    tax2_fen BIGINT,
    debit2_fen BIGINT,
    amount2_fen BIGINT,
    unit3 TEXT,
    weight3 BIGINT,
    rows3 BIGINT,
    tax3_fen BIGINT,
    debit3_fen BIGINT,
    amount3_fen BIGINT
);
CREATE INDEX settlement_entries_settlement ON settlement_entries(settlement_id);

-- Every settlement's lines move over, confirmed ones included (they never change in what they say):
-- an entry's lines become its slots, in the order of their units.
INSERT INTO settlement_entries (settlement_id, project_id, enterprise_id, adjusts_period, ratio, debit_fen,
    unit1, weight1, rows1, tax1_fen, debit1_fen, amount1_fen,
    unit2, weight2, rows2, tax2_fen, debit2_fen, amount2_fen,
    unit3, weight3, rows3, tax3_fen, debit3_fen, amount3_fen)
SELECT settlement_id, MIN(project_id), MIN(enterprise_id), MIN(adjusts_period), MIN(ratio), MIN(entry_debit_fen),
    MAX(CASE WHEN n = 1 THEN unit END), MAX(CASE WHEN n = 1 THEN weight END), MAX(CASE WHEN n = 1 THEN row_count END),
    MAX(CASE WHEN n = 1 THEN tax_fen END), MAX(CASE WHEN n = 1 THEN debit_fen END), MAX(CASE WHEN n = 1 THEN amount_fen END),
    MAX(CASE WHEN n = 2 THEN unit END), MAX(CASE WHEN n = 2 THEN weight END), MAX(CASE WHEN n = 2 THEN row_count END),
    MAX(CASE WHEN n = 2 THEN tax_fen END), MAX(CASE WHEN n = 2 THEN debit_fen END), MAX(CASE WHEN n = 2 THEN amount_fen END),
    MAX(CASE WHEN n = 3 THEN unit END), MAX(CASE WHEN n = 3 THEN weight END), MAX(CASE WHEN n = 3 THEN row_count END),
    MAX(CASE WHEN n = 3 THEN tax_fen END), MAX(CASE WHEN n = 3 THEN debit_fen END), MAX(CASE WHEN n = 3 THEN amount_fen END)
FROM (SELECT l.settlement_id, l.entry_no, l.project_id, l.enterprise_id, l.adjusts_period, l.ratio, l.entry_debit_fen,
        CASE l.unit_kind WHEN 'town' THEN 'town:' || l.unit_code WHEN 'department' THEN 'dept:' || l.unit_code
            ELSE 'zone' END AS unit,
        l.weight, l.row_count, l.tax_fen, l.debit_fen, l.amount_fen,
        row_number() OVER (PARTITION BY l.settlement_id, l.entry_no ORDER BY l.unit_kind, l.unit_code) AS n
      FROM settlement_lines l) x
GROUP BY settlement_id, entry_no
ORDER BY settlement_id, entry_no;
DROP TABLE settlement_lines;

-- What a draft reads of the projects (projects, their agreements and host moves, their enterprises'
-- credit codes) is kept in memory between drafts while `version` is unchanged: every write to those
-- tables bumps it in the writer's own transaction, whichever process writes. On PostgreSQL the bump
-- comes before the statement, so a writer holds the counter's row lock before any project row's and
-- two writers cannot deadlock over them.
CREATE TABLE data_versions (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO data_versions (name, version) VALUES ('settlement_projects', 0);
-- [sqlite]
CREATE TRIGGER investment_projects_version_insert AFTER INSERT ON investment_projects BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER investment_projects_version_update AFTER UPDATE ON investment_projects BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER investment_projects_version_delete AFTER DELETE ON investment_projects BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER sharing_agreements_version_insert AFTER INSERT ON sharing_agreements BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER sharing_agreements_version_update AFTER UPDATE ON sharing_agreements BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER sharing_agreements_version_delete AFTER DELETE ON sharing_agreements BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER project_host_moves_version_insert AFTER INSERT ON project_host_moves BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER project_host_moves_version_update AFTER UPDATE ON project_host_moves BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER project_host_moves_version_delete AFTER DELETE ON project_host_moves BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
CREATE TRIGGER enterprises_credit_code_version AFTER UPDATE OF credit_code ON enterprises BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects'; END;
-- [end]
-- [postgres]
CREATE FUNCTION settlement_projects_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_versions SET version = version + 1 WHERE name = 'settlement_projects';
    RETURN NULL;
END
$$;
CREATE TRIGGER investment_projects_version BEFORE INSERT OR UPDATE OR DELETE ON investment_projects
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_projects_version();
CREATE TRIGGER sharing_agreements_version BEFORE INSERT OR UPDATE OR DELETE ON sharing_agreements
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_projects_version();
CREATE TRIGGER project_host_moves_version BEFORE INSERT OR UPDATE OR DELETE ON project_host_moves
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_projects_version();
CREATE TRIGGER enterprises_credit_code_version BEFORE UPDATE OF credit_code ON enterprises
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_projects_version();
-- [end]
