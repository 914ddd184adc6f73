"""The decoded FTMS records: Indoor Bike Data and Treadmill Data, absent fields as ``None``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IndoorBikeData", "TreadmillData"]


@dataclass(frozen=True, slots=True)
class IndoorBikeData:
    """One Indoor Bike Data notification (or a merged record); absent fields are ``None``.

    Speeds in km/h, cadences in revolutions per minute, distance in metres, power in watts,
    energy in kcal (per hour and per minute for the rates), ``met`` in metabolic equivalents,
    times in seconds. ``resistance_level`` is the machine's unitless level as sent.
    ``more_data`` is ``True`` for a fragment that further notifications complete.
    """

    more_data: bool
    speed_kmh: float | None = None
    average_speed_kmh: float | None = None
    cadence_rpm: float | None = None
    average_cadence_rpm: float | None = None
    total_distance_m: int | None = None
    resistance_level: int | None = None
    power_w: int | None = None
    average_power_w: int | None = None
    total_energy_kcal: int | None = None
    energy_per_hour_kcal: int | None = None
    energy_per_minute_kcal: int | None = None
    bpm: int | None = None
    met: float | None = None
    elapsed_s: int | None = None
    remaining_s: int | None = None


@dataclass(frozen=True, slots=True)
class TreadmillData:
    """One Treadmill Data notification (or a merged record); absent fields are ``None``.

    Speeds in km/h, distance and elevation in metres, inclination in percent, ramp angle in
    degrees, pace in km per minute (FTMS 1.0 unit), energy in kcal, ``met`` in metabolic
    equivalents, times in seconds, force in newtons, power in watts. ``steps`` is the vendor step
    count since the machine session started (uint24), when the machine sends one.
    """

    more_data: bool
    speed_kmh: float | None = None
    average_speed_kmh: float | None = None
    total_distance_m: int | None = None
    inclination_pct: float | None = None
    ramp_angle_deg: float | None = None
    positive_elevation_gain_m: float | None = None
    negative_elevation_gain_m: float | None = None
    pace_km_per_min: float | None = None
    average_pace_km_per_min: float | None = None
    total_energy_kcal: int | None = None
    energy_per_hour_kcal: int | None = None
    energy_per_minute_kcal: int | None = None
    bpm: int | None = None
    met: float | None = None
    elapsed_s: int | None = None
    remaining_s: int | None = None
    force_on_belt_n: int | None = None
    power_w: int | None = None
    steps: int | None = None
