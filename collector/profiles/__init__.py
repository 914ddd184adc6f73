"""Pure parsers for the GATT characteristics the collector understands, one module per profile.

:data:`PROFILES` lists every characteristic the link layer may subscribe to, with its parser;
:func:`recognise` picks the profiles worth trying for a scan result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collector.profiles import battery, csc, ftms, heart_rate, huami, infinitime, rsc
from collector.profiles._reader import Payload
from collector.profiles._uuid import normalise_uuid, uuid16

__all__ = ["PROFILES", "Profile", "normalise_uuid", "profile", "recognise", "uuid16"]


@dataclass(frozen=True, slots=True)
class Profile:
    """One notifying characteristic the collector understands.

    Attributes
    ----------
    name : str
        Stable identifier, e.g. ``"heart_rate"``.
    service_uuid : str
        128-bit lowercase UUID of the service holding the characteristic.
    characteristic_uuid : str
        128-bit lowercase UUID of the characteristic to subscribe to.
    yields : tuple of str
        Names (with units) of the quantities its parser can produce.
    parse : callable
        Pure parser from the payload bytes to a frozen dataclass; raises ``PayloadError``.
    auth : str or None
        ``"huami"`` when :class:`collector.profiles.huami.HuamiAuth` must succeed before the
        characteristic notifies; ``None`` otherwise.
    """

    name: str
    service_uuid: str
    characteristic_uuid: str
    yields: tuple[str, ...]
    parse: Callable[[Payload], object]
    auth: str | None = None


PROFILES: tuple[Profile, ...] = (
    Profile(
        name="heart_rate",
        service_uuid=heart_rate.HEART_RATE_SERVICE_UUID,
        characteristic_uuid=heart_rate.HEART_RATE_MEASUREMENT_UUID,
        yields=("bpm", "rr_s", "energy_kj"),
        parse=heart_rate.parse_heart_rate_measurement,
    ),
    Profile(
        name="rsc",
        service_uuid=rsc.RSC_SERVICE_UUID,
        characteristic_uuid=rsc.RSC_MEASUREMENT_UUID,
        yields=("speed_mps", "cadence_spm", "stride_m", "total_distance_m"),
        parse=rsc.parse_rsc_measurement,
    ),
    Profile(
        name="csc",
        service_uuid=csc.CSC_SERVICE_UUID,
        characteristic_uuid=csc.CSC_MEASUREMENT_UUID,
        yields=("wheel_revs", "wheel_event_s", "crank_revs", "crank_event_s"),
        parse=csc.parse_csc_measurement,
    ),
    Profile(
        name="ftms_indoor_bike",
        service_uuid=ftms.FTMS_SERVICE_UUID,
        characteristic_uuid=ftms.INDOOR_BIKE_DATA_UUID,
        yields=("speed_kmh", "cadence_rpm", "power_w", "bpm", "total_distance_m", "elapsed_s"),
        parse=ftms.parse_indoor_bike_data,
    ),
    Profile(
        name="ftms_treadmill",
        service_uuid=ftms.FTMS_SERVICE_UUID,
        characteristic_uuid=ftms.TREADMILL_DATA_UUID,
        yields=("speed_kmh", "total_distance_m", "inclination_pct", "bpm", "elapsed_s", "steps"),
        parse=ftms.parse_treadmill_data,
    ),
    Profile(
        name="infinitime_steps",
        service_uuid=infinitime.INFINITIME_MOTION_SERVICE_UUID,
        characteristic_uuid=infinitime.INFINITIME_STEP_COUNT_UUID,
        yields=("steps_today",),
        parse=infinitime.parse_step_count,
    ),
    Profile(
        name="huami_realtime_steps",
        service_uuid=huami.HUAMI_SERVICE_UUID,
        characteristic_uuid=huami.HUAMI_REALTIME_STEPS_UUID,
        yields=("steps_today",),
        parse=huami.parse_realtime_steps,
        auth="huami",
    ),
    Profile(
        name="battery",
        service_uuid=battery.BATTERY_SERVICE_UUID,
        characteristic_uuid=battery.BATTERY_LEVEL_UUID,
        yields=("battery_percent",),
        parse=battery.parse_battery_level,
    ),
)

_BY_NAME = {p.name: p for p in PROFILES}

# Advertised names: Huami bands call themselves "MI Band 2" / "Mi Band 3" (Gadgetbridge
# MiBand2Coordinator/MiBand3Coordinator); InfiniTime advertises "InfiniTime" (InfiniTime
# src/components/ble/NimbleController.cpp).
_HUAMI_NAME = re.compile(r"^mi\s*band\s*[23]\b", re.IGNORECASE)
_INFINITIME_NAME = "InfiniTime"
_HUAMI_SERVICES = frozenset({uuid16(0xFEE0), uuid16(0xFEE1)})  # Gadgetbridge HuamiService
_HUAMI_PROFILES = ("huami_realtime_steps", "heart_rate")
_INFINITIME_PROFILES = ("infinitime_steps", "heart_rate", "battery")


def profile(name: str) -> Profile:
    """Return the profile called ``name``; raise ``KeyError`` if there is none."""
    return _BY_NAME[name]


def recognise(service_uuids: Iterable[str], name: str | None) -> list[str]:
    """Name the profiles worth subscribing to for a device seen in a scan.

    Parameters
    ----------
    service_uuids : iterable of str
        Service UUIDs from the advertisement, in any of the 16/32/128-bit spellings; strings
        that are not UUIDs are ignored.
    name : str or None
        The advertised local name, if any.

    Returns
    -------
    list of str
        Profile names in :data:`PROFILES` order, without duplicates; empty if nothing matches.
        Advertisements list few services, so the link layer should still check which
        characteristics the connected device really has.
    """
    advertised: set[str] = set()
    for text in service_uuids:
        try:
            advertised.add(normalise_uuid(text))
        except ValueError:
            continue
    wanted = {p.name for p in PROFILES if p.service_uuid in advertised}
    if advertised & _HUAMI_SERVICES or (name is not None and _HUAMI_NAME.match(name.strip())):
        wanted.update(_HUAMI_PROFILES)
    if name is not None and name.strip() == _INFINITIME_NAME:
        wanted.update(_INFINITIME_PROFILES)
    return [p.name for p in PROFILES if p.name in wanted]
