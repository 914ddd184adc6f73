"""A patient's recovery trajectory from the stored daily summaries, and its RECOVERY_BEHIND alert.

The summaries are read through :mod:`service.summaries` (their briefs' ``date``, ``steps``,
``aerobic_minutes`` and ``judged``); the entered baseline from ``patient_baselines``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis
from service.alerts import alert_target, raise_alert
from service.patients import PatientRecord, get_patient
from service.summaries import DayBrief, summary_briefs, versioned_briefs
from service.trajectory._baselines import entered_baseline
from service.worker.days import local_day

__all__ = ["on_day_stored", "patient_today", "team_trajectories", "trajectory_of"]

log = logging.getLogger(__name__)

_MODEL = analysis.load_recovery()
# The trajectory reads the days from the baseline window before surgery to today; a year after
# surgery covers any rehabilitation (tunable default).
_AFTER_SURGERY = timedelta(days=366)


# The trajectories this process has built, by everything they are computed from: the patient,
# the stored versions of the days read (VersionedBriefs.version, which names every stored day
# read, so it stands for the range too), today, the surgery (today and the surgery date fix the
# patient's window) and the entered baseline. The care team's list polls every few seconds; a patient's
# trajectory is built again only once one of these changed. Bounded: emptied past this many
# (tunable default: a few thousand patients' lists over a few days).
_TrajectoryKey = tuple[UUID, str, date, date, str, str, analysis.Baseline | None]
_TRAJECTORIES: dict[_TrajectoryKey, analysis.Trajectory] = {}
_TRAJECTORIES_MAX = 20_000


def patient_today(patient: PatientRecord) -> date:
    """The patient's local today."""
    return local_day(datetime.now(UTC), patient.tz)


def _figures(briefs: Sequence[DayBrief]) -> list[analysis.DaySteps]:
    return [
        analysis.DaySteps(
            date=b.date, steps=b.steps, aerobic_minutes=b.aerobic_minutes, judged=b.judged
        )
        for b in briefs
    ]


def _window(patient: PatientRecord, today: date) -> tuple[date, date]:
    first = patient.surgery_date - timedelta(days=_MODEL.baseline_window_days)
    return first, min(today, patient.surgery_date + _AFTER_SURGERY)


async def team_trajectories(
    conn: AsyncConnection[Any], patients: Sequence[PatientRecord]
) -> dict[UUID, analysis.Trajectory]:
    """The trajectory of each patient as of their local today (the same queries for all of them:
    the days through :func:`~service.summaries.summary_briefs`, and the entered baselines)."""
    if not patients:
        return {}
    todays = {p.id: patient_today(p) for p in patients}
    windows = {p.id: _window(p, todays[p.id]) for p in patients}
    first = min(w[0] for w in windows.values())
    last = max(w[1] for w in windows.values())
    briefs = await versioned_briefs(
        conn, patient_ids=[p.id for p in patients], first=first, last=last
    )
    entered = await entered_baseline(conn, [p.id for p in patients])
    if len(_TRAJECTORIES) > _TRAJECTORIES_MAX:
        _TRAJECTORIES.clear()
    keys = {
        p.id: (
            p.id,
            briefs[p.id].version,
            todays[p.id],
            p.surgery_date,
            p.surgery_type,
            p.approach,
            entered.get(p.id),
        )
        for p in patients
    }
    out = {p.id: t for p in patients if (t := _TRAJECTORIES.get(keys[p.id])) is not None}
    todo = [p for p in patients if p.id not in out]

    def build() -> dict[UUID, analysis.Trajectory]:
        built = {}
        for p in todo:
            first, last = windows[p.id]
            days = [b for b in briefs[p.id].days if first <= b.date <= last]
            built[p.id] = analysis.recovery_trajectory(
                summaries=_figures(days),
                surgery_date=p.surgery_date,
                surgery_type=p.surgery_type,
                approach=p.approach,
                today=todays[p.id],
                entered_baseline=entered.get(p.id),
            )
        return built

    if todo:
        # Pure computation from the fetched days (about 0.1 ms a patient): in a thread, so that
        # the event loop can serve other requests in between.
        built = await asyncio.to_thread(build)
        for pid, trajectory in built.items():
            _TRAJECTORIES[keys[pid]] = trajectory
        out.update(built)
    return out


async def trajectory_of(
    conn: AsyncConnection[Any], patient: PatientRecord, *, today: date | None = None
) -> analysis.Trajectory:
    """One patient's trajectory as of ``today`` (default: their local today)."""
    if today is None:
        return (await team_trajectories(conn, [patient]))[patient.id]
    first = patient.surgery_date - timedelta(days=_MODEL.baseline_window_days)
    briefs = await summary_briefs(
        conn, patient_ids=[patient.id], first=first, last=today - timedelta(days=1)
    )
    entered = await entered_baseline(conn, [patient.id])
    return analysis.recovery_trajectory(
        summaries=_figures(briefs[patient.id]),
        surgery_date=patient.surgery_date,
        surgery_type=patient.surgery_type,
        approach=patient.approach,
        today=today,
        entered_baseline=entered.get(patient.id),
    )


async def on_day_stored(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    day: date,
    status: str,
    digest_interval_s: int,
) -> None:
    """After ``day`` was summarised: when it is the last day of a week since surgery, judge the
    week and raise ``RECOVERY_BEHIND`` (info: never notifies) through the alert rules, or
    resolve the open one when recovery is no longer behind.

    The week is judged as of its end (later days are not read), so a backfill or a recomputation
    judges it as live data did; an alert already raised for that week is not raised again.
    """
    if status == "in_progress":
        return
    patient = await get_patient(conn, patient_id)
    if patient is None:
        return
    since = (day - patient.surgery_date).days
    if since < 0 or since % 7 != 6:
        return
    week = since // 7 + 1
    trajectory = await trajectory_of(conn, patient, today=day + timedelta(days=1))
    finding = analysis.recovery_behind(trajectory=trajectory, week=week)
    target = await alert_target(conn, patient.id)
    if target is None:
        return
    if finding is not None:
        cur = await conn.execute(
            "SELECT 1 FROM alerts WHERE patient_id = %s AND rule = %s AND first_day = %s",
            (patient.id, analysis.RECOVERY_BEHIND, day),
        )
        if await cur.fetchone() is None:
            await raise_alert(
                conn,
                target,
                rule=analysis.RECOVERY_BEHIND,
                source="monitoring",
                severity=finding.severity,
                day=day,
                message=finding.message,
                digest_interval_s=digest_interval_s,
            )
        return
    if not trajectory.behind:
        # The condition cleared: an info alert is resolved directly (service.alerts).
        await conn.execute(
            "UPDATE alerts SET state = 'resolved', cleared_on = %s, resolved_at = now(),"
            " resolve_note = %s WHERE patient_id = %s AND rule = %s"
            " AND state IN ('open', 'acknowledged', 'cleared') AND first_day < %s",
            (
                day,
                f"recovery no longer behind at the end of week {week}",
                patient.id,
                analysis.RECOVERY_BEHIND,
                day,
            ),
        )
