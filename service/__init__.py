"""The Rehab Monitor service: ingest API, storage, worker, care-team API and dashboards."""
