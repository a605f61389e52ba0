-- Excel imports of the registry: one row per import, and one row per enterprise it created or
-- updated, so that an enterprise's history shows the imports that touched it without writing one
-- audit record per row (the import itself is one audit record naming its id).
CREATE TABLE enterprise_imports (
    id {{ID}},
    at BIGINT NOT NULL,
    user_id BIGINT,
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    inserted BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE enterprise_import_items (
    import_id BIGINT NOT NULL,
    enterprise_id BIGINT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (enterprise_id, import_id)
);
-- The import that last wrote the row and the one that created it; set only by imports.
ALTER TABLE enterprises ADD COLUMN import_id BIGINT;
ALTER TABLE enterprises ADD COLUMN origin_import_id BIGINT;
CREATE INDEX enterprises_import ON enterprises(import_id);
-- Further contacts of an enterprise besides the primary one kept on the file itself.
CREATE TABLE enterprise_contacts (
    id {{ID}},
    enterprise_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    position TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX enterprise_contacts_enterprise ON enterprise_contacts(enterprise_id);
