-- The worker's queue without long locks, and days that keep failing set aside.
--
-- Claim, compute, finish: a worker claims a queued patient-day in a statement of its own
-- (claimed_at; claimed_by, the pid of its database backend), computes the day in a transaction
-- that takes the queue row's lock only in its last statements, and then deletes the row only if
-- nobody queued the day again meanwhile (generation unchanged). Otherwise it releases the claim,
-- and the day is computed again with what arrived during the first computation. A claim whose
-- backend is gone (a killed worker) may be taken again at once; any claim older than the lease
-- (service.worker.options) too.
--
-- Every writer that queues a day because its inputs changed gives the row a new generation
-- (ON CONFLICT ... DO UPDATE SET generation = DEFAULT); writers that only make sure a day is
-- queued (the sweeps) leave a queued row alone.
--
-- A day whose computation fails is retried after a back-off (attempts, next_attempt_at); after
-- the last attempt it is set aside (failed_at, error_class: the exception's class name, never
-- its message, which could quote data). Every other day goes on. Queueing the day explicitly
-- (`rehab analyze`, a settings change through rehab_requeue_days) arms it again.
--
-- Lock order, for every writer of the queue and the sample tables (no two can deadlock):
--   1. the patient's row (ingest: FOR NO KEY UPDATE; the worker: FOR KEY SHARE; patient edits:
--      FOR UPDATE),
--   2. sample rows in primary-key order (device_id, sensor, t), tables in the order hr, steps,
--      cadence, bike,
--   3. dirty_days rows in (patient_id, day) order (every INSERT … SELECT has ORDER BY),
--   4. the day's summary and alerts, then the device's row.

CREATE SEQUENCE dirty_days_generation_seq;

ALTER TABLE dirty_days
    ADD COLUMN generation      bigint NOT NULL DEFAULT nextval('dirty_days_generation_seq'),
    ADD COLUMN claimed_at      timestamptz,
    ADD COLUMN claimed_by      integer,
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN failed_at       timestamptz,
    ADD COLUMN error_class     text CHECK (length(error_class) <= 200);

ALTER SEQUENCE dirty_days_generation_seq OWNED BY dirty_days.generation;

-- The worker takes the oldest claimable day: read in this order, failed days left out.
CREATE INDEX dirty_days_claim_idx ON dirty_days (queued_at, day) WHERE failed_at IS NULL;

-- Settings changes requeue in day order and arm failed days again (the change may be the fix).
CREATE OR REPLACE FUNCTION rehab_requeue_days(p_patient uuid, p_from date) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO dirty_days (patient_id, day)
    SELECT patient_id, day FROM daily_summaries WHERE patient_id = p_patient AND day >= p_from
    ORDER BY day
    ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now(), generation = DEFAULT,
        attempts = 0, next_attempt_at = NULL, failed_at = NULL, error_class = NULL;
$$;
