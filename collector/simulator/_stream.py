"""Push a simulated history through the real collector path: outbox, then HTTP ingest."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import httpx

from collector.outbox import DEFAULT_CAPACITY_SAMPLES, Outbox
from collector.simulator._history import history_profile, iter_history, local_days, time_zone
from collector.simulator._profiles import PatientProfile
from collector.upload import ProgressCallback, Uploader, UploadRetryPolicy, UploadTotals

__all__ = ["StreamResult", "stream_history"]

# Tunable default: 10,000 samples per request (≈ 0.7 MB), well under the service's 50,000 /
# 8 MiB limits (WIRE_FORMAT.md, "Request").
_BATCH_MAX_SAMPLES = 10_000
# Tunable default: half the service's 8 MiB body limit (WIRE_FORMAT.md, "Request").
_BATCH_MAX_BYTES = 4 * 1024 * 1024
# Tunable default: one request may take 30 s (a cold service validating 10,000 samples).
_HTTP_TIMEOUT_S = 30.0
# Tunable default: a batch age threshold only matters to the live loop; drain sends everything.
_BATCH_MAX_AGE_S = 60.0


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What :func:`stream_history` did: the patient, samples made durable, and the upload."""

    profile: PatientProfile
    days: int
    samples_appended: int
    samples_dropped: int
    upload: UploadTotals


def _append_history(
    outbox: Outbox,
    *,
    days: int,
    stage_week: float,
    seed: int,
    tz: str,
    today: date,
    hr_interval_s: int,
    profile: PatientProfile,
    until_s: float | None,
) -> tuple[int, int]:
    """Simulate and append one day at a time, each day in one transaction (bounded memory)."""
    appended = dropped = 0
    for day in iter_history(
        days=days,
        stage_week=stage_week,
        seed=seed,
        tz=tz,
        today=today,
        profile=profile,
        hr_interval_s=hr_interval_s,
    ):
        t_s, bodies = day.encoded()
        if until_s is not None:
            kept = [i for i, t in enumerate(t_s) if t <= until_s]
            t_s, bodies = [t_s[i] for i in kept], [bodies[i] for i in kept]
        result = outbox.append_encoded(t_s=t_s, bodies=bodies)
        appended += result.appended
        dropped += result.dropped
    return appended, dropped


async def stream_history(
    *,
    server_url: str,
    device_token: str,
    outbox_path: Path,
    days: int,
    stage_week: float,
    seed: int,
    tz: str,
    hr_interval_s: int = 1,
    progress: ProgressCallback | None = None,
    today: date | None = None,
    profile: PatientProfile | None = None,
    batch_max_samples: int = _BATCH_MAX_SAMPLES,
    batch_max_bytes: int = _BATCH_MAX_BYTES,
    capacity_samples: int = DEFAULT_CAPACITY_SAMPLES,
    retry: UploadRetryPolicy | None = None,
    timeout_s: float = _HTTP_TIMEOUT_S,
    transport: httpx.AsyncBaseTransport | None = None,
    until_s: float | None = None,
) -> StreamResult:
    """Simulate ``days`` days ending yesterday in ``tz``, append them to the outbox, upload all.

    The samples take the same path as a real band's: made durable in the outbox at
    ``outbox_path``, then sent in batches to ``<server_url>/v1/ingest`` with ``device_token``,
    and deleted only once acknowledged. Rows already waiting in that outbox are sent too.
    Simulation and SQLite work run in a worker thread, so a server on the same event loop keeps
    answering.

    Parameters
    ----------
    stage_week
        Recovery week of yesterday, 1-based (see ``collector.simulator``).
    seed
        Draws the patient (unless ``profile`` is given) and every day.
    today
        The local date the history ends before; defaults to today in ``tz``.
    retry
        Backoff for transient failures; the default retries forever.
    transport
        An httpx transport for the client (tests, an in-process ASGI app).
    until_s
        Drop samples after this time (epoch seconds): with ``today`` set to tomorrow, this
        streams the part of today that has already happened.

    Raises
    ------
    collector.errors.UploadError
        ``401`` (pair again), an unusable URL, or retries past ``retry.give_up_after_s``.
    """
    end = today if today is not None else datetime.now(time_zone(tz)).date()
    local_days(days=days, tz=tz, today=end)  # validates days and tz before any work
    patient = profile if profile is not None else history_profile(seed=seed)
    outbox = await asyncio.to_thread(Outbox, outbox_path, capacity_samples=capacity_samples)
    try:
        appended, dropped = await asyncio.to_thread(
            _append_history,
            outbox,
            days=days,
            stage_week=stage_week,
            seed=seed,
            tz=tz,
            today=end,
            hr_interval_s=hr_interval_s,
            profile=patient,
            until_s=until_s,
        )
        async with httpx.AsyncClient(timeout=timeout_s, transport=transport) as client:
            uploader = Uploader(
                outbox=outbox,
                client=client,
                server_url=server_url,
                device_token=device_token,
                max_samples=batch_max_samples,
                max_bytes=batch_max_bytes,
                max_age_s=_BATCH_MAX_AGE_S,
                retry=retry,
            )
            totals = await uploader.drain(progress=progress)
    finally:
        await asyncio.to_thread(outbox.close)
    return StreamResult(
        profile=patient,
        days=days,
        samples_appended=appended,
        samples_dropped=dropped,
        upload=totals,
    )
