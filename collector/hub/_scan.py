"""``rehab collect scan``: listen to advertisements for a while and list candidate devices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from collector.hub._run import ScannerLike
from collector.link import Advertisement, AdvertisementBoard, BleakScannerSource
from collector.profiles import recognise

__all__ = ["ScanResult", "scan_nearby"]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One device heard during a scan, with the profiles the collector would use on it."""

    address: str
    name: str | None
    rssi_dbm: int
    profiles: tuple[str, ...]


async def scan_nearby(
    *,
    duration_s: float,
    only_supported: bool = True,
    scanner_factory: Callable[[Callable[[Advertisement], None]], ScannerLike] | None = None,
) -> list[ScanResult]:
    """Scan for ``duration_s`` seconds; strongest signal first.

    Raises
    ------
    collector.errors.DeviceError
        When no adapter is usable (translated once, with advice).
    """
    board = AdvertisementBoard()
    factory = scanner_factory or (lambda offer: BleakScannerSource(on_advertisement=offer))
    scanner = factory(board.offer)
    await scanner.start()
    try:
        await asyncio.sleep(duration_s)
    finally:
        await scanner.stop()
    results = [
        ScanResult(
            address=advert.address,
            name=advert.name,
            rssi_dbm=advert.rssi_dbm,
            profiles=tuple(recognise(advert.service_uuids, advert.name)),
        )
        for advert in board.all_latest()
    ]
    return [r for r in results if r.profiles] if only_supported else results
