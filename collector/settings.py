"""The collector's typed settings, built once at the entry point and passed down.

Every field can be set through an environment variable with the ``REHAB_`` prefix (for example
``REHAB_COLLECTOR_DIR``). Nothing else in the collector reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from collector.outbox import DEFAULT_CAPACITY_SAMPLES

__all__ = ["CollectorSettings", "default_collector_dir"]


def default_collector_dir() -> Path:
    """Where the outbox and pairing state live when ``REHAB_COLLECTOR_DIR`` is not set.

    A hub often runs as root under systemd (Raspberry Pi images); root gets the system-wide
    ``/var/lib/rehab-collector`` rather than a directory under ``/root``.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/rehab-collector")
    return Path(platformdirs.user_data_dir("rehab-collector"))


class CollectorSettings(BaseSettings):
    """Configuration of one collector process (``rehab simulate``, the hub daemon)."""

    model_config = SettingsConfigDict(env_prefix="REHAB_", extra="ignore", frozen=True)

    collector_dir: Path = Field(default_factory=default_collector_dir)
    # `rehab simulate` uploads here. A paired hub (`rehab collect run`) uploads to the server it
    # was paired with (`rehab collect pair --server`, kept in the pairing file with its token), and
    # warns when this is set to another one.
    server_url: str = Field(
        default="http://127.0.0.1:8000",
        description="base URL of the service for `rehab simulate`; <server_url>/v1/ingest.",
    )
    # Tunable default: 10,000 samples (≈ 2.8 h of 1 Hz heart rate, ≈ 0.7 MB) keeps each request
    # well under the service's 50,000-sample / 8 MiB limits (WIRE_FORMAT.md, "Request").
    batch_max_samples: int = Field(default=10_000, ge=1, le=50_000)
    # Tunable default: 4 MiB, half the service's 8 MiB body limit (WIRE_FORMAT.md, "Request").
    batch_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=8 * 1024 * 1024)
    # Tunable default: a live hub sends a partial batch once its oldest sample is a minute old,
    # so the dashboard lags the band by about a minute at most.
    batch_max_age_s: float = Field(default=60.0, gt=0)
    outbox_capacity_samples: int = Field(default=DEFAULT_CAPACITY_SAMPLES, ge=1)
    # Tunable default: one request may take this long before it counts as a network error.
    http_timeout_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _server_url_is_http(self) -> CollectorSettings:
        if not self.server_url.startswith(("http://", "https://")):
            raise ValueError(f"REHAB_SERVER_URL must be an http(s) URL, got {self.server_url!r}")
        return self

    @property
    def outbox_path(self) -> Path:
        """The outbox database under ``collector_dir``."""
        return self.collector_dir / "outbox.sqlite3"
