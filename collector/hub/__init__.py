"""The home hub's collection pipeline behind ``rehab collect``: pairing, run, status, scan.

BLE notifications flow link → queue → :class:`NotificationDecoder` (profile parsers, counters)
→ durable outbox → uploader; the running hub keeps a status file for ``rehab collect status``.
"""

from __future__ import annotations

from collector.hub._decode import DecoderStats, NotificationDecoder
from collector.hub._pairing import (
    PAIRING_FILE,
    PairedDevice,
    Pairing,
    enroll,
    ensure_private_dir,
    load_pairing,
    record_huami_key_written,
    save_pairing,
)
from collector.hub._run import EXIT_NOT_PAIRED, Hub, HubConfig, ScannerLike
from collector.hub._scan import ScanResult, scan_nearby
from collector.hub._status import STATUS_FILE, DeviceStatus, HubStatus, read_status, write_status

__all__ = [
    "EXIT_NOT_PAIRED",
    "PAIRING_FILE",
    "STATUS_FILE",
    "DecoderStats",
    "DeviceStatus",
    "Hub",
    "HubConfig",
    "HubStatus",
    "NotificationDecoder",
    "PairedDevice",
    "Pairing",
    "ScanResult",
    "ScannerLike",
    "enroll",
    "ensure_private_dir",
    "load_pairing",
    "read_status",
    "record_huami_key_written",
    "save_pairing",
    "scan_nearby",
    "write_status",
]
