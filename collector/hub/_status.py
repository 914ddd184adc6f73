"""The status file ``rehab collect run`` keeps current and ``rehab collect status`` reads."""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from collector.outbox import OutboxStatus

__all__ = ["STATUS_FILE", "DeviceStatus", "HubStatus", "read_status", "write_status"]

STATUS_FILE = "status.json"
_FILE_MODE = 0o600  # owner only, like the rest of the state directory


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One paired device as the running hub sees it; times are wall-clock epoch seconds."""

    address: str
    name: str
    state: str
    connected: bool
    last_sample_s: float | None
    battery_percent: int | None
    connects: int
    failures: int
    notifications: int
    dropped: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class HubStatus:
    """A snapshot of the whole hub, written every few seconds while it runs."""

    written_s: float
    pid: int
    devices: tuple[DeviceStatus, ...]
    outbox_depth_samples: int
    last_upload_s: float | None

    def to_json(self) -> bytes:
        """Serialise for :func:`write_status`."""
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> HubStatus:
        """Parse :meth:`to_json` output."""
        obj: dict[str, Any] = orjson.loads(data)
        return cls(
            written_s=float(obj["written_s"]),
            pid=int(obj["pid"]),
            devices=tuple(DeviceStatus(**d) for d in obj["devices"]),
            outbox_depth_samples=int(obj["outbox_depth_samples"]),
            last_upload_s=obj["last_upload_s"],
        )

    @classmethod
    def with_outbox(
        cls, *, written_s: float, devices: tuple[DeviceStatus, ...], outbox: OutboxStatus
    ) -> HubStatus:
        """Combine device snapshots with the outbox's own counters."""
        return cls(
            written_s=written_s,
            pid=os.getpid(),
            devices=devices,
            outbox_depth_samples=outbox.depth_samples,
            last_upload_s=outbox.last_upload_s,
        )


def write_status(state_dir: Path, status: HubStatus) -> None:
    """Replace the status file atomically (readers never see half a file)."""
    target = state_dir / STATUS_FILE
    temporary = state_dir / f".{STATUS_FILE}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(status.to_json())
    os.replace(temporary, target)


def read_status(state_dir: Path) -> HubStatus | None:
    """The last status written by a running hub, or ``None`` if there is none (or it is torn)."""
    with contextlib.suppress(FileNotFoundError, orjson.JSONDecodeError, KeyError, TypeError):
        return HubStatus.from_json((state_dir / STATUS_FILE).read_bytes())
    return None
