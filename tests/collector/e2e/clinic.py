"""A patient and a home hub in a test database, and the samples the service stored for it."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from collector.wire import BikeSample, CadenceSample, HeartRateSample, Sample, StepsSample
from service.patients import PatientIn, add_device, add_patient
from tests.collector.e2e.service_process import REHAB, rehab_env

__all__ = [
    "Enrolment",
    "Row",
    "as_row",
    "enrol_hub",
    "enrol_hub_with_cli",
    "stored_rows",
]

# One stored sample as comparable values: (kind, t in epoch milliseconds, value fields...).
Row = tuple[Any, ...]

_PATIENT = PatientIn(
    display_name="Hub Patient",
    birth_year=1961,
    tz="Europe/Berlin",
    surgery_type="fusion",
    surgery_date=date(2026, 3, 2),
)

# (kind, query) per sample table; t as whole epoch milliseconds, the wire format's precision.
_QUERIES = (
    ("heart_rate", "SELECT t, bpm FROM hr_samples"),
    ("steps", "SELECT t, steps, interval_s FROM step_samples"),
    ("cadence", "SELECT t, spm, running FROM cadence_samples"),
    ("bike", "SELECT t, rpm, power_w FROM bike_samples"),
)
_T_MS = "(extract(epoch FROM t) * 1000)::bigint"


@dataclass(frozen=True)
class Enrolment:
    """A patient, the hub bound to them, and the hub's device token."""

    patient_id: UUID
    device_id: UUID
    token: str


async def enrol_hub(db_url: str) -> Enrolment:
    """Add a patient and a hub through ``service.patients``; return the hub's token."""
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient_id = await add_patient(conn, _PATIENT)
        device_id, token = await add_device(conn, patient_id=patient_id)
    return Enrolment(patient_id=patient_id, device_id=device_id, token=token)


async def _rehab(db_url: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(REHAB),
        *args,
        env=rehab_env(REHAB_DATABASE_URL=db_url, COLUMNS="200"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise AssertionError(f"rehab {' '.join(args)} exited {process.returncode}: {err.decode()}")
    return out.decode()


async def enrol_hub_with_cli(db_url: str) -> Enrolment:
    """Add a patient and a hub as an administrator does: ``rehab patient add``, ``device add``."""
    patient_out = await _rehab(
        db_url,
        "patient",
        "add",
        "--name",
        _PATIENT.display_name,
        "--birth-year",
        str(_PATIENT.birth_year),
        "--tz",
        _PATIENT.tz,
        "--surgery-type",
        _PATIENT.surgery_type,
        "--surgery-date",
        _PATIENT.surgery_date.isoformat(),
    )
    patient_id = UUID(patient_out.strip())
    device_out = await _rehab(db_url, "device", "add", "--patient", str(patient_id))
    # Two lines: "device <id>", then the token alone.
    first, token = (line.strip() for line in device_out.strip().splitlines())
    device_id = UUID(first.removeprefix("device "))
    return Enrolment(patient_id=patient_id, device_id=device_id, token=token)


async def stored_rows(db_url: str, device_id: UUID) -> Counter[Row]:
    """Every sample stored for ``device_id``, as :data:`Row` values with their multiplicity."""
    rows: Counter[Row] = Counter()
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for kind, query in _QUERIES:
            select = query.replace("SELECT t,", f"SELECT {_T_MS},", 1) + " WHERE device_id = %s"
            cur = await conn.execute(select, (device_id,))
            for t_ms, *values in await cur.fetchall():
                rows[(kind, int(t_ms), *values)] += 1
    return rows


def as_row(sample: Sample) -> Row:
    """The :data:`Row` the service stores for ``sample`` (times rounded to milliseconds)."""
    t_ms = round(sample.t_s * 1000)
    if isinstance(sample, HeartRateSample):
        return ("heart_rate", t_ms, sample.bpm)
    if isinstance(sample, StepsSample):
        return ("steps", t_ms, sample.steps, sample.interval_s)
    if isinstance(sample, CadenceSample):
        return ("cadence", t_ms, sample.spm, sample.running)
    if isinstance(sample, BikeSample):
        return ("bike", t_ms, sample.rpm, sample.power_w)
    raise TypeError(f"not a sample: {sample!r}")
