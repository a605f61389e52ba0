-- Settlements keep their credits per project and unit instead of per ledger row and unit (issue 5,
-- Measure: 1.2 million lines a month at 10⁵ enterprises made a draft take half a minute). The core still
-- rounds and splits every ledger row on its own; the store sums the results. Which ledger rows a
-- settlement holds is kept by a high-water mark (`ledger_through`: the highest ledger id when it was
-- drafted; imports and drafts serialise on the settlement lock, so ids are allotted in that order) and,
-- for the few rows of confirmed months settled later as adjustments, row by row.
--
-- Settlements drafted under 0009's layout are discarded and must be drafted again: their lines cannot be
-- carried over. Only demonstration databases held any.
DROP TABLE settlement_entries;
DELETE FROM settlement_unshared;
DELETE FROM settlements;
ALTER TABLE settlements ADD COLUMN ledger_through BIGINT NOT NULL DEFAULT 0;

-- The credit lines of a settlement: one per balanced entry and unit credited. An entry (entry_no)
-- debits `entry_debit_fen` — the shareable tax of one project in one month (its own, or the confirmed
-- month `adjusts_period` corrects) — from the pool of tax to share; its lines credit the units and
-- sum to it exactly. `weight` is the unit's tenths of `ratio` (introducer : host : zone), merged when
-- one unit holds two roles. `row_count`, `tax_fen` (tax paid, 实缴) and `debit_fen` (the shareable
-- part) are over the ledger rows that credited the unit: what its statement shows per project.
-- Project and enterprise are not foreign keys: the draft read both in its own transaction and neither
-- is ever deleted, and checking 600,000 references took half of the lines' write time.
CREATE TABLE settlement_lines (
    id {{ID}},
    settlement_id BIGINT NOT NULL REFERENCES settlements(id),
    entry_no BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    enterprise_id BIGINT NOT NULL,
    adjusts_period TEXT,
    ratio TEXT NOT NULL,
    entry_debit_fen BIGINT NOT NULL,
    unit_kind TEXT NOT NULL CHECK (unit_kind IN ('town', 'department', 'zone')),
    unit_code TEXT NOT NULL,
    weight BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    tax_fen BIGINT NOT NULL,
    debit_fen BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL
);
CREATE INDEX settlement_lines_settlement_unit ON settlement_lines(settlement_id, unit_kind, unit_code);

-- A unit's part of a settlement per tax type (对账单按税种), summed over the same rows.
CREATE TABLE settlement_tax_types (
    id {{ID}},
    settlement_id BIGINT NOT NULL REFERENCES settlements(id),
    unit_kind TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    tax_type TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    tax_fen BIGINT NOT NULL,
    debit_fen BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    adjustments_fen BIGINT NOT NULL
);
CREATE INDEX settlement_tax_types_settlement ON settlement_tax_types(settlement_id);

-- Ledger rows of confirmed months that a settlement holds as adjustments (shared or not): rows above
-- their own month's high-water mark, so that no two confirmed settlements hold one row.
CREATE TABLE settlement_late_rows (
    settlement_id BIGINT NOT NULL REFERENCES settlements(id),
    ledger_id BIGINT NOT NULL REFERENCES tax_ledger(id),
    PRIMARY KEY (settlement_id, ledger_id)
);
CREATE INDEX settlement_late_rows_ledger ON settlement_late_rows(ledger_id);

-- A draft looks for rows of confirmed months above their high-water mark (period = ?, id > ?). SQLite's
-- index on period carries the rowid already; PostgreSQL's needs the id.
-- [postgres]
DROP INDEX tax_ledger_period;
CREATE INDEX tax_ledger_period_id ON tax_ledger(period, id);
-- [end]
