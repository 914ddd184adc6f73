-- Alert lifecycle: an alert lives until a person has seen it.
--
-- alerts.state gains 'cleared': the condition cleared (after a number of complete judged days
-- without it) before anyone acknowledged the alert. It stays in the care team's queue, shown as
-- "cleared, not reviewed", until someone acknowledges it (which resolves it). cleared_on is the
-- patient-local day on which the condition counted as cleared.
--
-- urgent_since: when the episode became urgent (opened urgent, or raised to urgent); an urgent
-- alert not acknowledged within REHAB_ALERT_ACK_TIMEOUT_S of it is overdue and notifies once
-- more (reminded_at). Alerts already unacknowledged and urgent count as reminded, so that an
-- upgrade does not send a burst of reminders for old alerts.
--
-- source 'monitoring': alerts raised by the service itself, not by a day's analysis or a
-- check-in (no data since enrolment).

ALTER TABLE alerts DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check
    CHECK (state IN ('open', 'acknowledged', 'cleared', 'resolved'));
ALTER TABLE alerts DROP CONSTRAINT alerts_source_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_source_check
    CHECK (source IN ('analysis', 'checkin', 'monitoring'));

ALTER TABLE alerts
    ADD COLUMN cleared_on    date,
    ADD COLUMN urgent_since  timestamptz,
    ADD COLUMN reminded_at   timestamptz;

UPDATE alerts SET urgent_since = opened_at WHERE severity = 'urgent';
UPDATE alerts SET reminded_at = now()
 WHERE severity = 'urgent' AND state = 'open' AND acknowledged_at IS NULL;

-- At most one active (open or acknowledged) episode per patient and rule; cleared, unreviewed
-- episodes may pile up beside a new one when the condition comes back.
DROP INDEX alerts_one_episode_idx;
CREATE UNIQUE INDEX alerts_one_episode_idx ON alerts (patient_id, rule)
    WHERE state IN ('open', 'acknowledged');

-- The notifier's periodic look for overdue urgent alerts reads only this handful of rows.
CREATE INDEX alerts_awaiting_ack_idx ON alerts (urgent_since)
    WHERE severity = 'urgent' AND reminded_at IS NULL AND state IN ('open', 'cleared');

-- A reminder: the delivery of an urgent alert that nobody acknowledged in time.
ALTER TABLE notification_deliveries ADD COLUMN reminder boolean NOT NULL DEFAULT false;
