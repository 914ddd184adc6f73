-- The stored text rendering of a summary (migration 0011) is read on every days request.
-- Compressed with lz4 rather than pglz, PostgreSQL's default, reading 30 days took 75 instead of
-- 150 µs of backend CPU (`rehab bench api` data). Values written from now on use it (the worker
-- rewrites a summary whenever its day is recomputed); older ones stay readable as they are. Only
-- on servers built with lz4 (PostgreSQL 14+ --with-lz4); elsewhere pglz stays.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE daily_summaries ALTER COLUMN summary_text SET COMPRESSION lz4;
    END IF;
END $$;
