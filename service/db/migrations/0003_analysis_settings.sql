-- Per-patient heart-rate settings, clearances and plan overrides: the analysis engine's inputs a
-- clinician controls. Plan overrides are rows, never updated in place, so that past days are
-- judged by the plan in force then.

ALTER TABLE patients
    ADD COLUMN resting_hr_bpm  real CHECK (resting_hr_bpm BETWEEN 20 AND 250),
    ADD COLUMN max_hr_bpm      real CHECK (max_hr_bpm BETWEEN 20 AND 250),
    ADD COLUMN hr_limit_bpm    real CHECK (hr_limit_bpm BETWEEN 20 AND 250),
    ADD COLUMN beta_blocker    boolean NOT NULL DEFAULT false,
    ADD COLUMN running_cleared_on     date,
    ADD COLUMN swimming_cleared_on    date,
    ADD COLUMN elliptical_cleared_on  date;

CREATE TABLE plan_overrides (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id          uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    effective_from      date NOT NULL,
    aerobic_min_low     real CHECK (aerobic_min_low >= 0),
    aerobic_min_high    real CHECK (aerobic_min_high >= 0),
    max_session_min     real CHECK (max_session_min > 0),
    hr_limit_bpm        real CHECK (hr_limit_bpm BETWEEN 20 AND 250),
    running_cleared     boolean,
    swimming_cleared    boolean,
    elliptical_cleared  boolean,
    note                text NOT NULL DEFAULT '',
    created_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (aerobic_min_low IS NULL OR aerobic_min_high IS NULL OR aerobic_min_low <= aerobic_min_high)
);
CREATE INDEX plan_overrides_patient_idx ON plan_overrides (patient_id, effective_from, id);

ALTER TABLE daily_summaries
    ADD COLUMN aerobic_minutes integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_codes text[] NOT NULL DEFAULT '{}';
