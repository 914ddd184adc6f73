-- Recovery baselines entered by the care team, kept with their history.
--
-- A patient's recovery trajectory compares each week since surgery with the patient's own usual
-- daily steps before the operation. The band measures that baseline itself when it was worn on
-- at least 7 valid pre-operative days (analysis/data/recovery.json); a clinician may instead
-- enter one, with where it came from ("patient's phone, last 3 months"). Every entry is a new
-- row: the newest is in force, the older ones are its history. An entry with no steps_per_day
-- withdraws the entered baseline (the measured one, if any, applies again).

CREATE TABLE patient_baselines (
    id             bigserial PRIMARY KEY,
    patient_id     uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    -- 100 … 60,000 steps/day: from a patient who barely walks to a very active one.
    steps_per_day  integer CHECK (steps_per_day IS NULL OR steps_per_day BETWEEN 100 AND 60000),
    source         text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    entered_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    entered_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_baselines_patient_idx ON patient_baselines (patient_id, id DESC);
