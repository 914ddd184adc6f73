-- The clinic's own record number (MRN) of a patient: optional, shown next to the name so that
-- namesakes can be told apart, and searchable on the care team's list. Unique within a team.
ALTER TABLE patients ADD COLUMN record_number text
    CHECK (record_number IS NULL OR length(record_number) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX patients_team_record_number_idx ON patients (team_id, record_number)
    WHERE record_number IS NOT NULL;
