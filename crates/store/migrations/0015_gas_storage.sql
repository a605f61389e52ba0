-- Storage of gas readings (issue 6, item 4): one-minute aggregates, and on PostgreSQL the raw
-- readings partitioned by day.

-- Per detector and minute: count, sum, minimum and maximum of the readings stored, in thousandths of
-- the unit; the mean is sum / n when read. Maintained in the transaction that stores the readings,
-- from the readings actually inserted (a duplicate never counts twice). Kept a year by default.
CREATE TABLE gas_reading_minutes (
    detector_id BIGINT NOT NULL,
    -- Start of the minute, epoch ms.
    minute BIGINT NOT NULL,
    n BIGINT NOT NULL,
    sum_milli BIGINT NOT NULL,
    min_milli BIGINT NOT NULL,
    max_milli BIGINT NOT NULL,
    PRIMARY KEY (detector_id, minute)
);

-- [postgres]
-- The raw readings become a table partitioned by RANGE on ts, one partition per Beijing day
-- (gas_readings_pYYYYMMDD), created ahead by the retention job and dropped whole when old. The
-- default partition takes any reading whose day has no partition yet; the job moves such rows into
-- their day's partition when it creates it. The existing rows move over here, into the default
-- partition, and from there into their days at the job's first run.
ALTER TABLE gas_readings RENAME TO gas_readings_unpartitioned;
ALTER INDEX gas_readings_pkey RENAME TO gas_readings_unpartitioned_pkey;
CREATE TABLE gas_readings (
    detector_id BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    value_milli BIGINT NOT NULL,
    PRIMARY KEY (detector_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE gas_readings_default PARTITION OF gas_readings DEFAULT;
INSERT INTO gas_readings (detector_id, ts, value_milli)
    SELECT detector_id, ts, value_milli FROM gas_readings_unpartitioned;
DROP TABLE gas_readings_unpartitioned;
-- [end]

-- The aggregates of the readings already stored.
INSERT INTO gas_reading_minutes (detector_id, minute, n, sum_milli, min_milli, max_milli)
    SELECT detector_id, (ts / 60000) * 60000, COUNT(*), SUM(value_milli), MIN(value_milli), MAX(value_milli)
    FROM gas_readings GROUP BY detector_id, (ts / 60000) * 60000;
