-- Where the timescaledb extension is installed and preloaded, turn the sample tables into
-- hypertables with compression and retention. On plain PostgreSQL (tests, the embedded default)
-- this migration is a no-op; it is exercised only on a TimescaleDB server (deploy/compose.yaml).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       OR position('timescaledb' IN current_setting('shared_preload_libraries')) = 0 THEN
        RAISE NOTICE 'timescaledb not available: sample tables stay plain tables';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    -- One-day chunks: a patient-day is the unit the worker reads, and 1 Hz heart rate for a few
    -- hundred patients is a few tens of millions of rows per day (Timescale's chunk-size guidance:
    -- a chunk's indexes should fit in about a quarter of memory).
    PERFORM create_hypertable('hr_samples', 't', chunk_time_interval => interval '1 day',
                              migrate_data => true, if_not_exists => true);
    PERFORM create_hypertable('step_samples', 't', chunk_time_interval => interval '7 days',
                              migrate_data => true, if_not_exists => true);
    PERFORM create_hypertable('cadence_samples', 't', chunk_time_interval => interval '7 days',
                              migrate_data => true, if_not_exists => true);
    PERFORM create_hypertable('bike_samples', 't', chunk_time_interval => interval '7 days',
                              migrate_data => true, if_not_exists => true);
    EXECUTE 'ALTER TABLE hr_samples SET (timescaledb.compress, timescaledb.compress_segmentby = ''device_id'')';
    EXECUTE 'ALTER TABLE step_samples SET (timescaledb.compress, timescaledb.compress_segmentby = ''device_id'')';
    -- Late data (a hub offline for weeks) is still accepted into compressed chunks on TimescaleDB
    -- 2.11+; compress after 30 days, the collector outbox's retention (collector/outbox).
    PERFORM add_compression_policy('hr_samples', interval '30 days', if_not_exists => true);
    PERFORM add_compression_policy('step_samples', interval '30 days', if_not_exists => true);
    -- Tunable default: raw 1 Hz heart rate kept two years; summaries are kept indefinitely.
    PERFORM add_retention_policy('hr_samples', interval '730 days', if_not_exists => true);
END
$$;
