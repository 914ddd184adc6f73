-- Care-team service: account lifecycle, login throttling, enrollment codes, patient change
-- history, check-ins, alerts with episodes, notification targets and their delivery log, and the
-- audit log. Runs on plain PostgreSQL 15+.

ALTER TABLE users
    ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();

-- Failed logins, one row each; the throttle counts rows in a sliding window per account and per
-- client address. Kept in the database so that every service process shares one count.
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     text NOT NULL,
    address     text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_account_idx ON login_failures (account, at);
CREATE INDEX login_failures_address_idx ON login_failures (address, at);

-- One-time codes a clinician issues so that a home hub can pair itself; only the hash is kept.
CREATE TABLE enrollment_codes (
    code_hash   bytea PRIMARY KEY,
    patient_id  uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    device_id   uuid REFERENCES devices (id)
);
CREATE INDEX enrollment_codes_patient_idx ON enrollment_codes (patient_id);

-- Per-patient alert routing knobs.
ALTER TABLE patients
    ADD COLUMN alert_suppression_h  integer NOT NULL DEFAULT 72 CHECK (alert_suppression_h BETWEEN 0 AND 720),
    ADD COLUMN alert_weekly_budget  integer NOT NULL DEFAULT 5 CHECK (alert_weekly_budget BETWEEN 0 AND 100);

-- Every change of a patient record: one row per changed field, never updated.
CREATE TABLE patient_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    field       text NOT NULL,
    old_value   jsonb,
    new_value   jsonb,
    changed_by  uuid REFERENCES users (id),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_changes_patient_idx ON patient_changes (patient_id, id);

-- Patient-reported check-ins: what a band cannot see.
CREATE TABLE checkins (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id           uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    day                  date NOT NULL,
    pain_0_10            smallint CHECK (pain_0_10 BETWEEN 0 AND 10),
    stretching_sessions  smallint NOT NULL DEFAULT 0 CHECK (stretching_sessions BETWEEN 0 AND 20),
    strength_session     boolean NOT NULL DEFAULT false,
    activities           jsonb NOT NULL DEFAULT '[]',
    red_flags            text[] NOT NULL DEFAULT '{}',
    note                 text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_by           uuid REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkins_patient_day_idx ON checkins (patient_id, day, id);

-- Alerts: one row per patient, rule and episode. An open or acknowledged episode is extended by
-- the same condition on the next day; at most one unresolved episode per patient and rule.
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id       uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    team_id          uuid NOT NULL REFERENCES care_teams (id),
    rule             text NOT NULL,
    source           text NOT NULL CHECK (source IN ('analysis', 'checkin')),
    severity         text NOT NULL CHECK (severity IN ('info', 'warning', 'urgent')),
    state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
    first_day        date NOT NULL,
    last_day         date NOT NULL,
    message          text NOT NULL,
    notify           text NOT NULL CHECK (notify IN ('now', 'digest', 'suppressed', 'budget', 'none')),
    opened_at        timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  uuid REFERENCES users (id),
    ack_note         text,
    resolved_at      timestamptz,
    resolved_by      uuid REFERENCES users (id),
    resolve_note     text,
    CHECK (first_day <= last_day)
);
CREATE UNIQUE INDEX alerts_one_episode_idx ON alerts (patient_id, rule) WHERE state <> 'resolved';
CREATE INDEX alerts_team_idx ON alerts (team_id, id);
CREATE INDEX alerts_patient_idx ON alerts (patient_id, rule, id);

-- Where a team's alerts go. Webhook secrets must be readable to sign, so they are stored as is.
CREATE TABLE notification_targets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id     uuid NOT NULL REFERENCES care_teams (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('webhook', 'email')),
    address     text NOT NULL CHECK (length(address) BETWEEN 3 AND 2000),
    secret      text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'webhook' OR secret IS NOT NULL)
);
CREATE INDEX notification_targets_team_idx ON notification_targets (team_id);

-- The delivery log: one row per message to one target, with its attempts.
CREATE TABLE notification_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target_id        bigint NOT NULL REFERENCES notification_targets (id) ON DELETE CASCADE,
    alert_ids        bigint[] NOT NULL,
    digest           boolean NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    due_at           timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (due_at) WHERE status = 'pending';

CREATE TABLE notification_attempts (
    delivery_id  bigint NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    ok           boolean NOT NULL,
    status_code  integer,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

-- Who read or changed which patient's data, and when. Never health data or secrets.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('user', 'device', 'cli', 'worker')),
    actor_id    uuid,
    action      text NOT NULL,
    patient_id  uuid,
    outcome     text NOT NULL CHECK (outcome IN ('allowed', 'denied'))
);
CREATE INDEX audit_log_patient_idx ON audit_log (patient_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
