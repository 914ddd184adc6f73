-- Minute rollups of the raw samples, maintained by ingest in the ingest transaction, so that the
-- worker reads at most one row per minute and sensor instead of every raw sample (86,400 rows per
-- 1 Hz patient-day).
--
-- One row per (device, sensor, minute of UTC time) holds what the minute grid needs
-- (analysis.build_minute_grid_from_minutes): heart-rate count, sum, lowest and highest; the
-- steps spread over minutes in integer nano-steps (1e-9 step) exactly as
-- analysis.spread_steps_nstep spreads a sample's interval, including intervals that cross minutes
-- and midnight; walking-cadence count, sum and the running bit; bike crank-cadence and power
-- counts and sums. Only samples that ingest actually stored (never a duplicate) add to a row:
-- the plain COPY path adds the whole batch, the de-duplicating path what INSERT … RETURNING gave
-- back. Counts and integer sums are exact in any order; steps are integers; the float sums of
-- real values (float4 cadence/rpm) are exact in float8 while a minute holds fewer than about
-- 200 samples of at most 300 per minute, so a grid from rollups equals the grid from raw samples.
--
-- Lock order (migration 0017), step 2 continued: after the sample rows, ingest upserts the
-- rollup rows in primary-key order (device_id, sensor, minute), before dirty_days. Only ingest
-- writes here; the worker reads without locks.
--
-- On TimescaleDB this stays a table maintained by ingest, turned into a hypertable with
-- compression (below), not a continuous aggregate: ingest-maintained rows are visible to the
-- worker as soon as the batch commits (a continuous aggregate refreshes later, or answers
-- real-time queries from the raw rows again), and a steps sample spread over the minutes its
-- interval overlaps is not a time_bucket GROUP BY of single rows.

CREATE TABLE sample_minutes (
    device_id        uuid NOT NULL,
    sensor           smallint NOT NULL CHECK (sensor BETWEEN 0 AND 255),
    minute           timestamptz NOT NULL,
    hr_count         integer NOT NULL DEFAULT 0,
    hr_sum_bpm       bigint NOT NULL DEFAULT 0,
    hr_min_bpm       smallint,
    hr_max_bpm       smallint,
    steps_nstep      bigint NOT NULL DEFAULT 0,
    cadence_count    integer NOT NULL DEFAULT 0,
    cadence_sum_spm  double precision NOT NULL DEFAULT 0,
    running          boolean NOT NULL DEFAULT false,
    bike_rpm_count   integer NOT NULL DEFAULT 0,
    bike_rpm_sum     double precision NOT NULL DEFAULT 0,
    bike_power_count integer NOT NULL DEFAULT 0,
    bike_power_sum_w bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, sensor, minute)
);

-- Backfill from the raw samples already stored (the same arithmetic as service/ingest/rollup.py).
INSERT INTO sample_minutes
SELECT device_id, sensor, minute, sum(hr_count), sum(hr_sum_bpm), min(hr_min_bpm), max(hr_max_bpm),
       sum(steps_nstep), sum(cadence_count), sum(cadence_sum_spm), bool_or(running),
       sum(bike_rpm_count), sum(bike_rpm_sum), sum(bike_power_count), sum(bike_power_sum_w)
FROM (
    SELECT device_id, sensor, date_trunc('minute', t, 'UTC') AS minute, count(*) AS hr_count,
           sum(bpm) AS hr_sum_bpm, min(bpm) AS hr_min_bpm, max(bpm) AS hr_max_bpm,
           0 AS steps_nstep, 0 AS cadence_count, 0::float8 AS cadence_sum_spm, false AS running,
           0 AS bike_rpm_count, 0::float8 AS bike_rpm_sum, 0 AS bike_power_count,
           0 AS bike_power_sum_w
    FROM hr_samples GROUP BY 1, 2, 3
    UNION ALL
    -- A sample counts steps in (end − interval, end]; minute k (µs [60e6·k, 60e6·(k + 1))) gets
    -- F(its end) − F(its start), F(b) = round(steps · clip(b − start, 0, interval) · 1000 /
    -- interval_s) nano-steps, halves up (analysis/minute_steps.py).
    SELECT device_id, sensor, to_timestamp(k * 60), 0, 0, NULL::smallint, NULL::smallint,
           (2000 * steps::bigint * hi + interval_s) / (2 * interval_s)
           - (2000 * steps::bigint * lo + interval_s) / (2 * interval_s),
           0, 0, false, 0, 0, 0, 0
    FROM (
        SELECT s.device_id, s.sensor, s.steps, s.interval_s, k,
               least(greatest(k * 60000000 - b.start_us, 0), s.interval_s * 1000000::bigint) AS lo,
               least(greatest((k + 1) * 60000000 - b.start_us, 0), s.interval_s * 1000000::bigint)
                   AS hi
        FROM step_samples s,
             LATERAL (SELECT (extract(epoch FROM s.t) * 1000000)::bigint AS end_us) e,
             LATERAL (SELECT e.end_us - s.interval_s * 1000000::bigint AS start_us) b,
             LATERAL generate_series(b.start_us / 60000000, (e.end_us - 1) / 60000000) k
        WHERE s.steps > 0
    ) pieces
    UNION ALL
    SELECT device_id, sensor, date_trunc('minute', t, 'UTC'), 0, 0, NULL, NULL, 0, count(*),
           sum(spm::float8), bool_or(coalesce(running, false)), 0, 0, 0, 0
    FROM cadence_samples GROUP BY 1, 2, 3
    UNION ALL
    SELECT device_id, sensor, date_trunc('minute', t, 'UTC'), 0, 0, NULL, NULL, 0, 0, 0, false,
           count(*), sum(rpm::float8), count(power_w), coalesce(sum(power_w), 0)
    FROM bike_samples GROUP BY 1, 2, 3
) parts
GROUP BY device_id, sensor, minute
HAVING sum(hr_count) > 0 OR sum(steps_nstep) > 0 OR sum(cadence_count) > 0
    OR sum(bike_rpm_count) > 0
ORDER BY device_id, sensor, minute;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    -- 7-day chunks: a row per device-minute is 1/60 of 1 Hz heart rate, so a week of rollups is
    -- smaller than a day of raw heart rate (hr_samples has 1-day chunks, migration 0002).
    PERFORM create_hypertable('sample_minutes', 'minute', chunk_time_interval => interval '7 days',
                              migrate_data => true, if_not_exists => true);
    EXECUTE 'ALTER TABLE sample_minutes SET (timescaledb.compress,'
            ' timescaledb.compress_segmentby = ''device_id'','
            ' timescaledb.compress_orderby = ''sensor, minute'')';
    -- Like the raw samples: compressed after 30 days (the collector outbox's retention), late
    -- batches still add to compressed chunks (TimescaleDB 2.11+ upserts into them). No retention
    -- policy: the rollups are what summaries are recomputed from once raw heart rate has expired.
    PERFORM add_compression_policy('sample_minutes', interval '30 days', if_not_exists => true);
END
$$;
