-- When monitoring starts, what a device last sent, and which stored days are still in progress.
--
-- patients.monitoring_from: the first patient-local day with a device or data (the earliest of
-- the first device's creation day and the first sample's day). Days before it are never judged,
-- so NO_DATA cannot fire before a patient had a band. Device creation keeps it up to date (the
-- trigger below); ingest lowers it when a batch holds older samples (service/ingest/store.py).
--
-- devices.last_sample_at: the newest sample time a device ever uploaded, beside last_seen_at
-- (last contact); ingest raises it in the statement that finishes every batch.

ALTER TABLE patients ADD COLUMN monitoring_from date;
ALTER TABLE devices ADD COLUMN last_sample_at timestamptz;

-- Backfill both from the stored samples. The (device_id, t) primary keys answer each min/max
-- with one index probe per device and table.
CREATE TEMP TABLE device_sample_span ON COMMIT DROP AS
SELECT d.id AS device_id, d.patient_id,
       least((SELECT min(t) FROM hr_samples WHERE device_id = d.id),
             (SELECT min(t) FROM step_samples WHERE device_id = d.id),
             (SELECT min(t) FROM cadence_samples WHERE device_id = d.id),
             (SELECT min(t) FROM bike_samples WHERE device_id = d.id)) AS first_t,
       greatest((SELECT max(t) FROM hr_samples WHERE device_id = d.id),
                (SELECT max(t) FROM step_samples WHERE device_id = d.id),
                (SELECT max(t) FROM cadence_samples WHERE device_id = d.id),
                (SELECT max(t) FROM bike_samples WHERE device_id = d.id)) AS last_t
FROM devices d;

UPDATE devices d SET last_sample_at = s.last_t
FROM device_sample_span s WHERE s.device_id = d.id AND s.last_t IS NOT NULL;

UPDATE patients p SET monitoring_from = f.first_day
FROM (SELECT d.patient_id,
             min(least((d.created_at AT TIME ZONE p2.tz)::date,
                       (s.first_t AT TIME ZONE p2.tz)::date)) AS first_day
      FROM devices d
      JOIN patients p2 ON p2.id = d.patient_id
      JOIN device_sample_span s ON s.device_id = d.id
      GROUP BY d.patient_id) f
WHERE f.patient_id = p.id;

CREATE FUNCTION rehab_device_monitoring_from() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Written only when earlier, so that a new device never moves monitoring start later.
    UPDATE patients SET monitoring_from = (NEW.created_at AT TIME ZONE tz)::date
     WHERE id = NEW.patient_id
       AND (monitoring_from IS NULL OR monitoring_from > (NEW.created_at AT TIME ZONE tz)::date);
    RETURN NEW;
END;
$$;

CREATE TRIGGER devices_monitoring_from AFTER INSERT ON devices
    FOR EACH ROW EXECUTE FUNCTION rehab_device_monitoring_from();

-- A day summarised while it was running (status in_progress) is recomputed as soon as it has
-- ended in the patient's zone; the worker looks for such rows every round through this index,
-- which holds about one row per active patient.
CREATE INDEX daily_summaries_in_progress_idx ON daily_summaries (patient_id, day)
    WHERE status = 'in_progress';
