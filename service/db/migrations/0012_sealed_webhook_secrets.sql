-- Webhook signing secrets are stored encrypted since this version (service/secretbox.py).
COMMENT ON COLUMN notification_targets.secret IS
    'Fernet token under REHAB_SECRET_KEY, prefixed "fernet:". A value without the prefix was stored '
    'before encryption and is encrypted when the notifier starts.';
