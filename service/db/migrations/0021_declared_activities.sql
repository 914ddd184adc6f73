-- Activities declared in imported files: a watch's cycling or walking workout, a FIT session's
-- sport, a TCX or GPX activity's type. The analysis reads them with the day's samples
-- (analysis/activities.py): a declared ride's worn minutes without crank cadence count as
-- biking, a declared walk as walking.
--
-- One row per device, start and kind: re-importing a file finds its rows again and stores
-- nothing twice. The rows go with their device and patient, as the samples do.

CREATE TABLE declared_activities (
    device_id   uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    patient_id  uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('walk', 'bike', 'run')),
    start_t     timestamptz NOT NULL,
    end_t       timestamptz NOT NULL,
    -- At most a day: a workout left running for longer is not a session (tunable default).
    CHECK (end_t > start_t AND end_t <= start_t + interval '24 hours'),
    PRIMARY KEY (device_id, start_t, kind)
);
CREATE INDEX declared_activities_patient_idx ON declared_activities (patient_id, start_t);
