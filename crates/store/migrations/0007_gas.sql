-- 有毒有害气体预警: detectors, raw readings, alarms and their events, and the alarm engine's state.
-- Measured values are stored in thousandths of the detector's unit (BIGINT): sqlx's Any driver cannot
-- send a float to PostgreSQL, and thousandths are finer than any gas detector resolves. Flags are 0/1.

CREATE TABLE gas_detectors (
    id {{ID}},
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    -- 位号, exactly as devices send it (core: gas::Tag).
    tag TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    plant_area TEXT NOT NULL DEFAULT '',
    lon_e6 BIGINT,
    lat_e6 BIGINT,
    -- Gas code of the gas table ('H2S', 'EX', 'O2' …) and unit ('ppm', 'mg/m3', '%LEL', '%VOL').
    gas TEXT NOT NULL,
    unit TEXT NOT NULL,
    range_min_milli BIGINT NOT NULL,
    range_max_milli BIGINT NOT NULL,
    -- The set-points in force: level 1 / level 2, or oxygen low / high. With set_points_custom = 0
    -- they are the GB/T 50493-2019 defaults of the gas table, recomputed by the engine at load.
    set_points_custom BIGINT NOT NULL DEFAULT 0,
    set_point1_milli BIGINT NOT NULL,
    set_point2_milli BIGINT NOT NULL,
    -- 回差; NULL = the default (10 % of level 1 − range minimum, or of high − low for oxygen).
    deadband_milli BIGINT,
    interval_s BIGINT NOT NULL,
    offline_after_missed BIGINT NOT NULL DEFAULT 3,
    -- Delays: a count of consecutive readings ('readings') or a duration in milliseconds ('ms').
    on_delay BIGINT NOT NULL DEFAULT 1,
    on_delay_unit TEXT NOT NULL DEFAULT 'readings' CHECK (on_delay_unit IN ('readings', 'ms')),
    off_delay BIGINT NOT NULL DEFAULT 3,
    off_delay_unit TEXT NOT NULL DEFAULT 'readings' CHECK (off_delay_unit IN ('readings', 'ms')),
    out_of_range TEXT NOT NULL DEFAULT 'clamp' CHECK (out_of_range IN ('clamp', 'reject')),
    -- For device authentication of the MQTT slice: HMAC-SM3 of the device's secret, never the secret.
    device_secret_hash TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX gas_detectors_enterprise ON gas_detectors(enterprise_id);

-- Raw readings, idempotent on (detector, ts): a reading sent twice is stored once.
CREATE TABLE gas_readings (
    detector_id BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    value_milli BIGINT NOT NULL,
    PRIMARY KEY (detector_id, ts)
);

-- The engine's per-detector state (core: gas::DetectorState as JSON) and the latest reading, written
-- in the same transaction as the readings and alarm changes that moved it, so that a restart resumes
-- exactly where the engine stopped.
CREATE TABLE gas_detector_state (
    detector_id BIGINT PRIMARY KEY REFERENCES gas_detectors(id),
    last_ts BIGINT,
    last_value_milli BIGINT,
    last_seen BIGINT NOT NULL,
    offline BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per alarm; at most one open (not closed) alarm per detector and kind.
CREATE TABLE gas_alarms (
    id {{ID}},
    detector_id BIGINT NOT NULL REFERENCES gas_detectors(id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises(id),
    kind TEXT NOT NULL,
    level BIGINT NOT NULL,
    -- 1 while the condition holds; 0 once it cleared (cleared_at).
    active BIGINT NOT NULL DEFAULT 1,
    value_milli BIGINT,
    raised_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    repeats BIGINT NOT NULL DEFAULT 0,
    cleared_at BIGINT,
    acked_at BIGINT,
    acked_by TEXT,
    disposed_at BIGINT,
    disposed_by TEXT,
    disposal_note TEXT,
    closed_at BIGINT,
    closed_by TEXT,
    escalation_step BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX gas_alarms_one_open ON gas_alarms(detector_id, kind) WHERE closed_at IS NULL;
CREATE INDEX gas_alarms_raised ON gas_alarms(raised_at);
CREATE INDEX gas_alarms_enterprise ON gas_alarms(enterprise_id);

-- Every transition of an alarm: by the engine (who = '报警引擎') or by a person.
CREATE TABLE gas_alarm_events (
    id {{ID}},
    alarm_id BIGINT NOT NULL REFERENCES gas_alarms(id),
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    who TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gas_alarm_events_alarm ON gas_alarm_events(alarm_id);
