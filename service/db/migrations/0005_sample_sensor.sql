-- A home hub uploads for all its sensors under one device token. The sensor number (1–255 per
-- hub; 0 when a sender does not say) joins the natural key, so that a band and a chest strap
-- reporting heart rate in the same millisecond are two samples, not a sample and a duplicate.
-- The time column stays in the key, as hypertables require.

ALTER TABLE hr_samples ADD COLUMN sensor smallint NOT NULL DEFAULT 0 CHECK (sensor BETWEEN 0 AND 255);
ALTER TABLE hr_samples DROP CONSTRAINT hr_samples_pkey;
ALTER TABLE hr_samples ADD PRIMARY KEY (device_id, sensor, t);

ALTER TABLE step_samples ADD COLUMN sensor smallint NOT NULL DEFAULT 0 CHECK (sensor BETWEEN 0 AND 255);
ALTER TABLE step_samples DROP CONSTRAINT step_samples_pkey;
ALTER TABLE step_samples ADD PRIMARY KEY (device_id, sensor, t);

ALTER TABLE cadence_samples ADD COLUMN sensor smallint NOT NULL DEFAULT 0 CHECK (sensor BETWEEN 0 AND 255);
ALTER TABLE cadence_samples DROP CONSTRAINT cadence_samples_pkey;
ALTER TABLE cadence_samples ADD PRIMARY KEY (device_id, sensor, t);

ALTER TABLE bike_samples ADD COLUMN sensor smallint NOT NULL DEFAULT 0 CHECK (sensor BETWEEN 0 AND 255);
ALTER TABLE bike_samples DROP CONSTRAINT bike_samples_pkey;
ALTER TABLE bike_samples ADD PRIMARY KEY (device_id, sensor, t);
