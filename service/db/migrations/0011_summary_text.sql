-- The days routes serve stored summaries as they are. Rendering jsonb as text (jsonb_out) was
-- most of PostgreSQL's work per request (about 0.5 ms of a 30-day read, `rehab bench api`), so
-- the text rendering is kept next to the document, computed by PostgreSQL on every write.
-- Writers are unchanged; queries on the document keep using the jsonb column.
ALTER TABLE daily_summaries
    ADD COLUMN summary_text text GENERATED ALWAYS AS (summary::text) STORED;
