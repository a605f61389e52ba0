-- Platform foundation: organisation, accounts, sessions, logs, audit chain, API keys, settings.
-- One text for both backends; {{ID}} and {{BLOB}} are the only per-backend words (see migrate.rs).

CREATE TABLE towns (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL
);

CREATE TABLE departments (
    id {{ID}},
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE grids (
    id {{ID}},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE project_areas (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    industries TEXT NOT NULL,
    polygon TEXT NOT NULL
);

CREATE TABLE enterprises (
    id {{ID}},
    credit_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    legal_representative TEXT NOT NULL DEFAULT '',
    industry_code TEXT NOT NULL DEFAULT '',
    host_town TEXT NOT NULL REFERENCES towns(code),
    introducer_town TEXT REFERENCES towns(code),
    introducer_department BIGINT REFERENCES departments(id),
    project_area TEXT REFERENCES project_areas(code),
    grid_id BIGINT REFERENCES grids(id),
    address TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'operating',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX enterprises_host_town ON enterprises(host_town);
CREATE INDEX enterprises_grid ON enterprises(grid_id);
CREATE INDEX enterprises_name ON enterprises(name);

CREATE TABLE users (
    id {{ID}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    department_id BIGINT REFERENCES departments(id),
    town_code TEXT REFERENCES towns(code),
    grid_id BIGINT REFERENCES grids(id),
    enterprise_id BIGINT REFERENCES enterprises(id),
    phone TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 1,
    password_changed_at BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0,
    totp_secret TEXT,
    totp_last_step BIGINT,
    demo BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE password_history (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users(id),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id);

CREATE TABLE supervisor_assignments (
    user_id BIGINT NOT NULL REFERENCES users(id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    PRIMARY KEY (user_id, enterprise_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    mfa_done BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_log (
    id {{ID}},
    at BIGINT NOT NULL,
    username TEXT NOT NULL,
    user_id BIGINT,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX login_log_at ON login_log(at);

CREATE TABLE audit_log (
    seq {{ID}},
    at BIGINT NOT NULL,
    user_id BIGINT,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

-- The chain's starting point: genesis, or the last record removed by pruning.
CREATE TABLE audit_anchor (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    pruned_at BIGINT
);

CREATE TABLE api_keys (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
