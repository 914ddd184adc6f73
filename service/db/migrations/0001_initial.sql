-- Rehab Monitor: initial schema. Runs on plain PostgreSQL 15+; 0002 turns the sample tables into
-- TimescaleDB hypertables where that extension exists.

CREATE TABLE care_teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patients (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id       uuid NOT NULL REFERENCES care_teams (id),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    birth_year    integer NOT NULL CHECK (birth_year BETWEEN 1900 AND 2100),
    tz            text NOT NULL,
    surgery_type  text NOT NULL CHECK (surgery_type IN ('discectomy', 'laminectomy', 'fusion', 'other')),
    surgery_date  date NOT NULL,
    approach      text NOT NULL DEFAULT 'open'
                  CHECK (approach IN ('open', 'minimally_invasive', 'endoscopic')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patients_team_idx ON patients (team_id);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text NOT NULL CHECK (position('@' IN email) > 1),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'clinician', 'patient')),
    patient_id     uuid REFERENCES patients (id),
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'patient' OR patient_id IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE team_members (
    team_id  uuid NOT NULL REFERENCES care_teams (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- Bearer tokens are opaque random strings; only their SHA-256 is stored, so a database leak does
-- not leak usable tokens. Revocation is immediate because every request looks the hash up.
CREATE TABLE access_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);

-- A device is one binding of a hub/band to one patient; re-binding creates a new device, so the
-- samples of a device always belong to the same patient.
CREATE TABLE devices (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id    uuid NOT NULL REFERENCES patients (id),
    name          text NOT NULL DEFAULT 'home hub' CHECK (length(name) BETWEEN 1 AND 200),
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_seen_at  timestamptz,
    battery_pct   smallint CHECK (battery_pct BETWEEN 0 AND 100)
);
CREATE INDEX devices_patient_idx ON devices (patient_id);

CREATE TABLE ingest_batches (
    device_id    uuid NOT NULL REFERENCES devices (id),
    batch_id     uuid NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    n_samples    integer NOT NULL,
    accepted     integer NOT NULL,
    duplicates   integer NOT NULL,
    PRIMARY KEY (device_id, batch_id)
);

-- Narrow time-series tables. The natural key (device, time) makes re-sent data idempotent
-- (INSERT ... ON CONFLICT DO NOTHING) and, with time in the key, is valid for a hypertable.
CREATE TABLE hr_samples (
    device_id  uuid NOT NULL,
    t          timestamptz NOT NULL,
    bpm        smallint NOT NULL CHECK (bpm BETWEEN 20 AND 250),
    rr_s       real[],
    PRIMARY KEY (device_id, t)
);

CREATE TABLE step_samples (
    device_id   uuid NOT NULL,
    t           timestamptz NOT NULL,
    steps       integer NOT NULL CHECK (steps >= 0),
    interval_s  integer NOT NULL CHECK (interval_s BETWEEN 1 AND 3600),
    PRIMARY KEY (device_id, t)
);

CREATE TABLE cadence_samples (
    device_id  uuid NOT NULL,
    t          timestamptz NOT NULL,
    spm        real NOT NULL CHECK (spm BETWEEN 0 AND 300),
    running    boolean,
    PRIMARY KEY (device_id, t)
);

CREATE TABLE bike_samples (
    device_id  uuid NOT NULL,
    t          timestamptz NOT NULL,
    rpm        real NOT NULL CHECK (rpm BETWEEN 0 AND 250),
    power_w    smallint CHECK (power_w BETWEEN 0 AND 3000),
    PRIMARY KEY (device_id, t)
);

-- Patient-local days whose derived data must be recomputed. Ingest inserts, the worker claims
-- rows with FOR UPDATE SKIP LOCKED and deletes them when the summary is stored.
CREATE TABLE dirty_days (
    patient_id  uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    day         date NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, day)
);

-- Derived data: recomputable at any time from the samples, stamped with the analysis version.
CREATE TABLE daily_summaries (
    patient_id        uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    day               date NOT NULL,
    steps             integer NOT NULL,
    wear_minutes      integer NOT NULL,
    active_minutes    integer NOT NULL,
    status            text NOT NULL,
    summary           jsonb NOT NULL,
    analysis_version  text NOT NULL,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, day)
);
