-- A counter bumped by every write to the enterprise registry, in the same transaction, so that each
-- instance knows when its in-memory list index is stale.
CREATE TABLE registry_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO registry_version (id, version) VALUES (1, 0);
