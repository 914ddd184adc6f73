"""From files to stored samples: detect the format, validate as ingest does, store idempotently.

Each source of a file (a watch, a phone, a bike computer; :class:`SourceSamples`) is a device of
the patient of its own, named ``file import: …`` and found again by the source's key, so the
same watch in a later export is the same device, and a band, a watch and a phone never share
natural keys. These devices cannot upload: they are created revoked, with a token hash that no
token has. The samples of every source go through the ingest path unchanged: encoded as
``POST /v1/ingest`` batches with the :mod:`wire` structs, decoded and checked by
:func:`service.ingest.parse_batch`, stored by :func:`service.ingest.store_batch`. Batch ids are
derived from the file's contents, so re-importing a file stores nothing twice (every sample is
a duplicate). The whole file is validated first and stored in one transaction: a rejected file
stores nothing, and its error names the file, the record and what was wrong.

Samples from before a window ahead of surgery are left out (and counted): the monitor follows the
recovery, and years of watch history would open years of days to judge, but the weeks before the
operation are the patient's pre-operative baseline that the recovery trajectory compares with, so
:data:`PREOPERATIVE_WINDOW_DAYS` days before the day of surgery are kept.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
from psycopg import AsyncConnection

from service.db.epoch import PG_EPOCH_S
from service.errors import ValidationFailedError
from service.imports._apple import parse_apple
from service.imports._fit import parse_fit
from service.imports._fitbit import is_fitbit_name, parse_fitbit
from service.imports._model import (
    Activity,
    FileSummary,
    ImportFileError,
    ParsedFile,
    SourceSamples,
)
from service.imports._tracks import parse_gpx, parse_tcx
from service.ingest import ParsedBatch, parse_batch, store_batch
from service.ingest.store import STAGING_DDL
from service.ingest.times import times_us
from service.patients import PatientRecord
from wire import Batch

__all__ = [
    "FORMATS",
    "PREOPERATIVE_WINDOW_DAYS",
    "ImportResult",
    "SourceResult",
    "file_digest",
    "import_parsed",
    "read_file",
]

FORMATS = ("fit", "tcx", "gpx", "apple_health", "fitbit")
# Tunable default: patient-local days before the day of surgery whose samples an import keeps, the
# pre-operative baseline of the recovery trajectory (about three months of a watch's history: the
# weeks before an operation; older samples are left out and counted).
PREOPERATIVE_WINDOW_DAYS = 90
# Tunable default: samples per ingest batch (the ingest route's own limit is 50,000).
CHUNK_SAMPLES = 10_000
# Namespace of the batch ids of imports (uuid5 over the file's digest, the source and the chunk).
_BATCH_NAMESPACE = uuid.UUID("6a7c1f0e-9b1d-4d1e-8f3a-2f6b1d0c9e55")
_DEVICE_NAME_MAX = 200  # devices.name CHECK
_ENCODER = msgspec.json.Encoder()

Progress = Callable[[int], None]


@dataclass(frozen=True)
class SourceResult:
    """One source of an imported file: its device and what was stored."""

    key: str
    name: str
    device_id: UUID
    accepted: int
    duplicates: int
    #: Activities the source declares (new or already stored): a workout, a session's sport.
    activities: int = 0


@dataclass(frozen=True)
class ImportResult:
    """One imported file."""

    file: str
    format: str
    accepted: int
    duplicates: int
    #: Samples left out: from before the pre-operative window ahead of the day of surgery.
    before_surgery: int
    sources: tuple[SourceResult, ...]
    summary: FileSummary
    skipped: dict[str, int]


def _sniff(path: Path, name: str) -> str:
    lower = name.lower()
    with path.open("rb") as f:
        head = f.read(4096)
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    if head.startswith(b"PK"):
        return "fitbit" if "fitbit" in lower or "takeout" in lower else "apple_health"
    text = head.decode("utf-8", errors="replace")
    if "<TrainingCenterDatabase" in text:
        return "tcx"
    if "<gpx" in text:
        return "gpx"
    if "<HealthData" in text or "<!DOCTYPE HealthData" in text:
        return "apple_health"
    if is_fitbit_name(lower):
        return "fitbit"
    raise ImportFileError(
        name, "not a FIT, TCX, GPX, Apple Health or Fitbit export file (format not recognised)"
    )


def read_file(path: Path, *, zone: str, name: str | None = None) -> ParsedFile:
    """Parse ``path`` (``name``: how to call it in errors) in whichever format it is."""
    shown = name or path.name
    kind = _sniff(path, shown)
    if kind == "fit":
        return parse_fit(path.read_bytes(), shown)
    if kind == "tcx":
        return parse_tcx(path.read_bytes(), shown)
    if kind == "gpx":
        return parse_gpx(path.read_bytes(), shown)
    if kind == "apple_health":
        return parse_apple(path, shown)
    return parse_fitbit(path, shown, zone=ZoneInfo(zone))


def _cutoff_us(patient: PatientRecord, preoperative_days: int) -> int:
    """The start of the first kept local day, ``preoperative_days`` before the day of surgery."""
    first = patient.surgery_date - timedelta(days=preoperative_days)
    start = datetime.combine(first, time(), tzinfo=patient.zone)
    return round((start.timestamp() - PG_EPOCH_S) * 1e6)


def _from_cutoff(source: SourceSamples, cutoff_us: int) -> tuple[SourceSamples, int]:
    """The source without its samples (and activities) before ``cutoff_us``, and how many
    samples those were."""
    cutoff = datetime.fromtimestamp(PG_EPOCH_S + cutoff_us / 1e6, UTC)
    activities = [a for a in source.activities if a.start >= cutoff]
    if not source.samples:
        return _copy(source, [], activities), 0
    try:
        t_us = times_us([s.t for s in source.samples])
    except ValidationFailedError:
        return source, 0  # bad times are reported by the ingest validation, record by record
    keep = np.flatnonzero(t_us >= cutoff_us).tolist()
    if len(keep) == len(source.samples):
        return _copy(source, keep, activities), 0
    return _copy(source, keep, activities), len(source.samples) - len(keep)


def _copy(source: SourceSamples, keep: list[int], activities: list[Activity]) -> SourceSamples:
    kept = SourceSamples(key=source.key, name=source.name, activities=activities)
    kept.samples = [source.samples[i] for i in keep]
    kept.where = [source.where[i] for i in keep]
    return kept


# A declared activity, stored once per device, start and kind (migration 0021); its local days
# are queued when it is new, so that a file imported again after that migration is re-judged.
_ACTIVITY_SQL = (
    "WITH new AS ("
    " INSERT INTO declared_activities (device_id, patient_id, kind, start_t, end_t)"
    " VALUES (%(device)s, %(patient)s, %(kind)s, %(start)s, %(end)s)"
    " ON CONFLICT (device_id, start_t, kind) DO NOTHING RETURNING start_t, end_t)"
    " INSERT INTO dirty_days (patient_id, day)"
    " SELECT DISTINCT %(patient)s::uuid, d FROM new, patients p,"
    " LATERAL (VALUES ((start_t AT TIME ZONE %(tz)s)::date),"
    "  ((end_t AT TIME ZONE %(tz)s)::date)) v(d)"
    " WHERE p.id = %(patient)s AND d >= p.monitoring_from"
    " AND d <= (now() AT TIME ZONE %(tz)s)::date"
    " ORDER BY 2"
    " ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now(), generation = DEFAULT"
)
# Tunable default: the longest declared activity kept (migration 0021's CHECK); a workout left
# running for longer is not a session.
_ACTIVITY_MAX = timedelta(hours=24)


def _check_activities(parsed: ParsedFile, source: SourceSamples) -> None:
    for activity in source.activities:
        if activity.end - activity.start > _ACTIVITY_MAX:
            raise ImportFileError(
                parsed.name, "an activity longer than 24 hours", record=activity.where
            )


def _validated(
    parsed: ParsedFile, source: SourceSamples, digest: str, now: datetime
) -> list[ParsedBatch]:
    """The source's samples as validated ingest batches; a problem names file and record."""
    batches: list[ParsedBatch] = []
    for start in range(0, len(source.samples), CHUNK_SAMPLES):
        chunk = source.samples[start : start + CHUNK_SAMPLES]
        batch_id = uuid.uuid5(_BATCH_NAMESPACE, f"{digest}:{source.key}:{start}")
        body = _ENCODER.encode(Batch(batch_id=batch_id, samples=chunk))
        try:
            batches.append(parse_batch(body, now=now, max_samples=len(chunk)))
        except ValidationFailedError as exc:
            problem = (exc.fields.get("errors") or [{}])[0]
            loc = problem.get("loc") or []
            record = None
            if len(loc) >= 2 and loc[0] == "samples" and isinstance(loc[1], int):
                record = source.where[start + loc[1]]
            field = str(loc[2]) if len(loc) >= 3 else "sample"
            count = int(exc.fields.get("error_count") or 1)
            more = f" (and {count - 1} more problems)" if count > 1 else ""
            raise ImportFileError(
                parsed.name, f"{field}: {problem.get('msg', exc.detail)}{more}", record=record
            ) from None
    return batches


def _device_token_hash(patient_id: UUID, key: str) -> bytes:
    # Not the hash of any token: real tokens are printable and "rmd"-prefixed (service.auth).
    return hashlib.sha256(b"rehab-import\x00" + patient_id.bytes + key.encode()).digest()


async def _source_device(
    conn: AsyncConnection[Any], patient_id: UUID, source: SourceSamples
) -> UUID:
    token_hash = _device_token_hash(patient_id, source.key)
    cur = await conn.execute(
        "INSERT INTO devices (patient_id, name, token_hash, revoked_at)"
        " VALUES (%s, %s, %s, now()) ON CONFLICT (token_hash) DO NOTHING RETURNING id",
        (patient_id, source.name[:_DEVICE_NAME_MAX], token_hash),
    )
    row = await cur.fetchone()
    if row is None:
        cur = await conn.execute(
            "SELECT id FROM devices WHERE token_hash = %s AND patient_id = %s",
            (token_hash, patient_id),
        )
        row = await cur.fetchone()
    assert row is not None
    return UUID(str(row[0]))


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


async def import_parsed(
    conn: AsyncConnection[Any],
    *,
    patient: PatientRecord,
    parsed: ParsedFile,
    digest: str,
    now: datetime | None = None,
    progress: Progress | None = None,
    preoperative_days: int = PREOPERATIVE_WINDOW_DAYS,
) -> ImportResult:
    """Validate every sample of ``parsed``, then store them all in one transaction.

    Samples from before ``preoperative_days`` days ahead of the day of surgery are left out and
    counted in :attr:`ImportResult.before_surgery`.
    """
    now = now or datetime.now(UTC)
    cutoff_us = _cutoff_us(patient, preoperative_days)
    before_surgery = 0
    prepared: list[tuple[SourceSamples, list[ParsedBatch]]] = []
    for source in parsed.sources.values():
        kept, dropped = _from_cutoff(source, cutoff_us)
        before_surgery += dropped
        if kept.samples or kept.activities:
            _check_activities(parsed, kept)
            prepared.append((kept, _validated(parsed, kept, digest, now)))
    results: list[SourceResult] = []
    # The ingest staging tables (made by the pool's hook on pooled connections; not on others).
    await conn.execute(STAGING_DDL)
    async with conn.transaction():
        for source, batches in prepared:
            device_id = await _source_device(conn, patient.id, source)
            accepted = duplicates = 0
            for batch in batches:
                stored = await store_batch(
                    conn, device_id=device_id, patient_id=patient.id, tz=patient.tz, batch=batch
                )
                accepted += stored.accepted
                duplicates += stored.duplicates
                if progress is not None:
                    progress(batch.n_samples)
            for activity in source.activities:
                await conn.execute(
                    _ACTIVITY_SQL,
                    {
                        "device": device_id,
                        "patient": patient.id,
                        "kind": activity.kind,
                        "start": activity.start,
                        "end": activity.end,
                        "tz": patient.tz,
                    },
                )
            results.append(
                SourceResult(
                    source.key, source.name, device_id, accepted, duplicates,
                    len(source.activities),
                )
            )  # fmt: skip
    return ImportResult(
        file=parsed.name,
        format=parsed.format,
        accepted=sum(r.accepted for r in results),
        duplicates=sum(r.duplicates for r in results),
        before_surgery=before_surgery,
        sources=tuple(results),
        summary=parsed.summary,
        skipped=dict(parsed.skipped),
    )
