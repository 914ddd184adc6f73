"""The service's typed settings, built once at the entry point and passed down.

Every field can be set through an environment variable with the ``REHAB_`` prefix (for example
``REHAB_DATABASE_URL``). Nothing else in the service reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """Where the embedded database and other state live when nothing else is configured.

    As root, the embedded PostgreSQL makes every ancestor of its data directory traversable by its
    service user, so the default must not live under ``/root``: ``/var/lib/rehab`` is used instead.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/rehab")
    return Path(platformdirs.user_data_dir("rehab"))


class Settings(BaseSettings):
    """Configuration of one service process (``rehab serve``, ``rehab demo``, the CLI)."""

    model_config = SettingsConfigDict(env_prefix="REHAB_", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without an external database "
        "(REHAB_DATABASE_URL) and a secret key (REHAB_SECRET_KEY).",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql:// URL; when unset, an embedded PostgreSQL under data_dir is used.",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts webhook signing secrets at rest (`rehab secret-key` "
        "prints one); when unset, data_dir/secret.key is created and used. Required in production.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Tunable default: short-lived bearer tokens limit what a leaked token can do (OWASP ASVS 3.3).
    access_token_ttl_s: int = Field(default=3600, ge=60, le=86_400)
    # Tunable defaults: a browser session ends after 30 min without activity (OWASP session
    # management cheat sheet: 15-30 min idle for sensitive data) and at the latest 12 h after
    # login (one clinic shift); activity renews the idle time, never the maximum.
    session_idle_s: int = Field(default=1800, ge=60, le=86_400)
    session_max_s: int = Field(default=43_200, ge=60, le=7 * 86_400)
    # Ingest limits, documented in service/ingest/WIRE_FORMAT.md. 50,000 samples is about 14 hours
    # of 1 Hz heart rate: far more than one upload needs, small enough to validate in ~100 ms.
    ingest_max_samples: int = Field(default=50_000, ge=1)
    ingest_max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Pool size: 2 cores here; psycopg's guidance is a small pool sized to the database's cores.
    db_pool_min_size: int = Field(default=2, ge=1)
    db_pool_max_size: int = Field(default=10, ge=1)
    # Tunable defaults: a request waits at most 3 s for a pooled connection and a new connection
    # at most 2 s for the server, then answers 503 with Retry-After (the database is away).
    db_pool_timeout_s: float = Field(default=3.0, gt=0, le=60)
    db_connect_timeout_s: int = Field(default=2, ge=1, le=60)
    run_worker: bool = Field(
        default=True, description="run the analysis worker inside `rehab serve`."
    )
    # Tunable default: how often the worker looks for dirty patient-days when no NOTIFY woke it.
    worker_poll_s: float = Field(default=2.0, gt=0)
    # Tunable defaults: a patient-day whose computation fails is tried 5 times in all, the waits
    # between doubling from 30 s (30 s, 1, 2, 4 min), then set aside for an administrator
    # (`rehab analyze --failed`, GET /v1/admin/worker/failed-days); every other day goes on.
    worker_max_attempts: int = Field(default=5, ge=1, le=100)
    worker_retry_backoff_s: float = Field(default=30.0, ge=0, le=86_400)
    # Tunable default: a worker claims up to 8 dirty patient-days in one statement (a round of a
    # few hundred milliseconds; small enough that a killed worker's claims are few).
    worker_batch_days: int = Field(default=8, ge=1, le=1000)
    # Tunable default: a day still in progress (today) is recomputed at most once a minute, so a
    # hub uploading every minute causes one recompute a minute, not one per upload; a day that has
    # ended is never delayed. 0 recomputes at every change.
    worker_today_interval_s: float = Field(default=60.0, ge=0, le=86_400)
    # Tunable default: an ingest transaction that loses a deadlock or serialization race is
    # retried 3 times (after 25-150 ms, jittered) before the hub is answered 503 with Retry-After.
    ingest_conflict_retries: int = Field(default=3, ge=0, le=10)
    # Tunable default: warnings and errors only, so command output stays readable; INFO adds
    # migrations applied and the embedded server's start, DEBUG everything.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    # --- Care-team service ---------------------------------------------------------------------
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed by CORS; empty (the default) sends no CORS headers at all.",
    )
    # Tunable default: 1 MiB covers every JSON body outside ingest (which has its own limit).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # OWASP ASVS 2.2.1 asks for anti-automation; tunable defaults: 5 failures per account and 20
    # per client address within 15 minutes, then 429 until the window has moved on.
    login_window_s: int = Field(default=900, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    # Tunable default: a hub is paired within minutes of the nurse issuing the code.
    enrollment_code_ttl_s: int = Field(default=900, ge=60, le=7 * 86_400)
    run_notifier: bool = Field(
        default=True, description="deliver queued alert notifications inside `rehab serve`."
    )
    # Tunable defaults: the delivery loop's period, the wait a request spends on an urgent
    # notification before leaving it to the loop, and one webhook/SMTP call's timeout.
    notify_poll_s: float = Field(default=1.0, gt=0)
    notify_inline_timeout_s: float = Field(default=2.0, gt=0)
    notify_send_timeout_s: float = Field(default=5.0, gt=0)
    # Tunable default: non-urgent alerts are gathered into one digest per target per hour.
    notify_digest_interval_s: int = Field(default=3600, ge=1)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "rehab-monitor@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # Off by default: a webhook may only point at a public internet address (service.notify's
    # address check); a clinic's internal pager on a private network needs this switched on.
    webhook_allow_private_addresses: bool = False
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="the dashboard's address as the care team opens it; notifications link to "
        "{public_url}/patients/{patient_id}#alerts.",
    )
    # --- Alert lifecycle (service/alerts) ---------------------------------------------------------
    # Tunable default: a warning or urgent condition counts as cleared after two complete, judged
    # days without it (one calm day after an over-target day is not yet a trend).
    alert_clear_days: int = Field(default=2, ge=1, le=30)
    # Tunable default: an urgent alert not acknowledged within 4 h (half a clinic shift) is
    # overdue and notifies once more.
    alert_ack_timeout_s: int = Field(default=4 * 3600, ge=60, le=7 * 86_400)
    # Tunable default: a patient whose first device was enrolled two days ago and who has sent no
    # sample at all raises "no data since enrolment" (a hub is normally set up the same day).
    alert_no_data_after_enrolment_days: int = Field(default=2, ge=1, le=60)

    @model_validator(mode="after")
    def _production_needs_external_parts(self) -> Settings:
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "REHAB_DATABASE_URL must be set in production (the embedded database is for "
                "development and demos only)"
            )
        if self.environment == "production" and self.secret_key is None:
            raise ValueError(
                "REHAB_SECRET_KEY must be set in production: it encrypts webhook signing secrets "
                "at rest and must live outside the database (`rehab secret-key` prints a new one)"
            )
        return self

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "pgdata"
