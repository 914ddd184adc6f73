-- Derived data follows its inputs: when a clinician changes what the analysis judges by (a plan
-- override, heart-rate settings, clearances, surgery facts), every summarised day from the change
-- on is queued for the worker, whatever code path made the change.

CREATE FUNCTION rehab_requeue_days(p_patient uuid, p_from date) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO dirty_days (patient_id, day)
    SELECT patient_id, day FROM daily_summaries WHERE patient_id = p_patient AND day >= p_from
    ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now();
$$;

CREATE FUNCTION rehab_plan_override_requeue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rehab_requeue_days(NEW.patient_id, NEW.effective_from);
    RETURN NEW;
END;
$$;

CREATE TRIGGER plan_overrides_requeue AFTER INSERT ON plan_overrides
    FOR EACH ROW EXECUTE FUNCTION rehab_plan_override_requeue();

CREATE FUNCTION rehab_patient_settings_requeue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Surgery date and type move every day's week and plan stage: requeue all days. Heart-rate
    -- settings and clearances carry no effective date of their own: requeue all days too (the
    -- clearance dates themselves decide which days they affect).
    PERFORM rehab_requeue_days(NEW.id, '-infinity'::date);
    RETURN NEW;
END;
$$;

CREATE TRIGGER patients_settings_requeue AFTER UPDATE OF
    birth_year, tz, surgery_type, surgery_date, approach, resting_hr_bpm, max_hr_bpm, hr_limit_bpm,
    beta_blocker, running_cleared_on, swimming_cleared_on, elliptical_cleared_on
    ON patients FOR EACH ROW
    WHEN ((OLD.birth_year, OLD.tz, OLD.surgery_type, OLD.surgery_date, OLD.approach,
           OLD.resting_hr_bpm, OLD.max_hr_bpm, OLD.hr_limit_bpm, OLD.beta_blocker,
           OLD.running_cleared_on, OLD.swimming_cleared_on, OLD.elliptical_cleared_on)
          IS DISTINCT FROM
          (NEW.birth_year, NEW.tz, NEW.surgery_type, NEW.surgery_date, NEW.approach,
           NEW.resting_hr_bpm, NEW.max_hr_bpm, NEW.hr_limit_bpm, NEW.beta_blocker,
           NEW.running_cleared_on, NEW.swimming_cleared_on, NEW.elliptical_cleared_on))
    EXECUTE FUNCTION rehab_patient_settings_requeue();
