"""``rehab demo``: a care team with four simulated patients, pushed through the real data path.

Each patient's history is simulated by the collector's seeded band, made durable in a collector
outbox, and uploaded over HTTP to ``POST /v1/ingest`` of a running service: the same path a home
hub takes. The worker then summarises every patient-day.

Three of them wore the band for a week and a bit before their operation (a hub set up at the
pre-operative visit), so their recovery is measured against their own baseline; the week-8
patient's hub came after surgery (absolute milestones only). One recovers slowly: the care team
sees ``RECOVERY_BEHIND``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from collector.simulator import PatientProfile, history_profile, stream_history
from collector.upload import UploadProgress
from service.accounts import ensure_team
from service.auth import hash_password
from service.checkins import CheckinIn, record_checkin
from service.db import make_pool
from service.patients import PatientIn, add_device, add_patient, get_patient
from service.settings import Settings
from service.trajectory import trajectory_of
from service.worker import WorkerOptions, drain

__all__ = [
    "DEMO_PATIENTS",
    "DemoLogins",
    "DemoPatient",
    "load_demo",
    "print_last_days",
    "print_trajectories",
]

DEMO_TEAM = "demo"
CLINICIAN_EMAIL = "clinician@demo.example"
PATIENT_EMAIL = "patient@demo.example"
# Days before the last week are simulated with one heart-rate sample every 15 s instead of every
# second: the daily summaries barely change, and the demo stays within a minute on two cores.
_RECENT_DAYS = 7
_OLDER_HR_INTERVAL_S = 15
# Tunable default: at most eight weeks of history per demo patient.
_MAX_HISTORY_DAYS = 56


# Days worn before surgery: more than the 7 valid days a baseline needs (recovery.json), with a
# day to spare for one with too little wear (tunable default).
_PREOP_DAYS = 8
# Tunable defaults: the slow recoverer's steps come back at a quarter of the usual pace, from a
# baseline of 6,000 steps/day (below the Fitabase median of 7,833, collector.simulator), so that
# weeks 3 and 4 fall below the expected band and week 6 stays short of 3,500 steps/day.
_SLOW_PACE = 0.25
_SLOW_BASELINE_STEPS = 6_000


@dataclass(frozen=True)
class DemoPatient:
    name: str
    days_since_surgery: int
    surgery_type: str
    approach: str
    tz: str
    seed: int
    preop_days: int = _PREOP_DAYS
    recovery_pace: float = 1.0
    baseline_steps: int | None = None


DEMO_PATIENTS = (
    DemoPatient("Ada Early (day 3)", 3, "discectomy", "endoscopic", "Europe/Berlin", 11),
    DemoPatient(
        "Ben Midway (week 3)", 21, "laminectomy", "minimally_invasive", "Europe/London", 22
    ),
    DemoPatient("Cleo Later (week 8)", 56, "fusion", "open", "America/New_York", 33, preop_days=0),
    DemoPatient(
        "Dan Slow (week 7)",
        43,
        "laminectomy",
        "open",
        "Europe/Madrid",
        44,
        recovery_pace=_SLOW_PACE,
        baseline_steps=_SLOW_BASELINE_STEPS,
    ),
)


@dataclass(frozen=True)
class DemoLogins:
    clinician_email: str
    clinician_password: str
    patient_email: str
    patient_password: str


async def _upsert_login(
    conn: AsyncConnection[Any],
    *,
    email: str,
    password: str,
    role: str,
    team_id: UUID,
    patient_id: UUID | None,
) -> None:
    # The demo prints fresh passwords on every run, so an existing demo login gets the new one.
    cur = await conn.execute(
        "INSERT INTO users (email, password_hash, role, patient_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (lower(email)) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
        " patient_id = EXCLUDED.patient_id, disabled_at = NULL RETURNING id",
        (email, hash_password(password), role, patient_id),
    )
    row = await cur.fetchone()
    assert row is not None
    await conn.execute(
        "INSERT INTO team_members (team_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (team_id, row[0]),
    )


async def _ensure_patient(conn: AsyncConnection[Any], spec: DemoPatient, today: date) -> UUID:
    """The demo patient called ``spec.name``, created on the first run."""
    team_id = await ensure_team(conn, DEMO_TEAM)
    cur = await conn.execute(
        "SELECT id FROM patients WHERE team_id = %s AND display_name = %s", (team_id, spec.name)
    )
    row = await cur.fetchone()
    if row is not None:
        return UUID(str(row[0]))
    profile = _profile(spec)
    return await add_patient(
        conn,
        PatientIn(
            display_name=spec.name,
            birth_year=today.year - round(profile.age_years),
            tz=spec.tz,
            surgery_type=spec.surgery_type,  # type: ignore[arg-type]
            surgery_date=today - timedelta(days=spec.days_since_surgery),
            approach=spec.approach,  # type: ignore[arg-type]
        ),
        team=DEMO_TEAM,
    )


async def _setup(db_url: str) -> tuple[DemoLogins, list[tuple[DemoPatient, UUID, str]]]:
    logins = DemoLogins(
        CLINICIAN_EMAIL, secrets.token_urlsafe(12), PATIENT_EMAIL, secrets.token_urlsafe(12)
    )
    patients = []
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        team_id = await ensure_team(conn, DEMO_TEAM)
        for spec in DEMO_PATIENTS:
            today = datetime.now(ZoneInfo(spec.tz)).date()
            patient_id = await _ensure_patient(conn, spec, today)
            _, token = await add_device(conn, patient_id=patient_id, name="demo band")
            patients.append((spec, patient_id, token))
        await _upsert_login(
            conn,
            email=CLINICIAN_EMAIL,
            password=logins.clinician_password,
            role="clinician",
            team_id=team_id,
            patient_id=None,
        )
        await _upsert_login(
            conn,
            email=PATIENT_EMAIL,
            password=logins.patient_password,
            role="patient",
            team_id=team_id,
            patient_id=patients[1][1],
        )
    return logins, patients


def _profile(spec: DemoPatient) -> PatientProfile:
    drawn = history_profile(seed=spec.seed)
    return replace(
        drawn,
        recovery_pace=spec.recovery_pace,
        baseline_steps_per_day=spec.baseline_steps or drawn.baseline_steps_per_day,
    )


def _stage_week(days_since_surgery: int) -> float:
    # stream_history's stage is the recovery week of the last simulated day (1-based).
    return 1.0 + days_since_surgery / 7.0


async def _push(
    spec: DemoPatient, token: str, server_url: str, outbox_dir: Path, progress: Progress
) -> None:
    today = datetime.now(ZoneInfo(spec.tz)).date()
    history_days = min(spec.days_since_surgery, _MAX_HISTORY_DAYS) + spec.preop_days
    recent = min(history_days, _RECENT_DAYS)
    older = history_days - recent
    task = progress.add_task(spec.name, total=None)
    # The bar counts every part of the history; each upload reports its own part only.
    sent_before = 0

    def report(p: UploadProgress) -> None:
        progress.update(
            task, completed=sent_before + p.samples_done, total=sent_before + p.samples_total
        )

    parts = []
    if older:
        # The older part ends where the recent week begins.
        parts.append((older, today - timedelta(days=recent), _OLDER_HR_INTERVAL_S))
    parts.append((recent, today, 1))
    # Today so far: a whole simulated day ending tonight, cut at the current time, so that the
    # dashboards show today's progress (samples from the future would be refused by ingest).
    parts.append((1, today + timedelta(days=1), 1))
    for days, end, hr_interval_s in parts:
        result = await stream_history(
            until_s=time.time(),
            server_url=server_url,
            device_token=token,
            outbox_path=outbox_dir / f"{spec.seed}.sqlite",
            days=days,
            stage_week=_stage_week(spec.days_since_surgery - (today - end).days),
            seed=spec.seed + (today - end).days,
            tz=spec.tz,
            hr_interval_s=hr_interval_s,
            progress=report,
            today=end,
            profile=_profile(spec),
        )
        sent_before += result.upload.samples_sent


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def load_demo(
    *, db_url: str, server_url: str, settings: Settings, console: Console
) -> tuple[DemoLogins, list[tuple[DemoPatient, UUID]]]:
    """Create the demo team and patients, push their history to ``server_url``, summarise."""
    logins, patients = await _setup(db_url)
    outbox_dir = settings.data_dir / "demo-outbox"
    outbox_dir.mkdir(parents=True, exist_ok=True)
    console.print("[bold]Uploading simulated history through outbox → POST /v1/ingest[/]")
    with _progress(console) as progress:
        for spec, _, token in patients:
            await _push(spec, token, server_url, outbox_dir, progress)
    pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(db_url, settings)
    async with pool:
        with _progress(console) as progress:
            task = progress.add_task("summarising days", total=None)
            await drain(
                pool,
                on_progress=lambda n: progress.update(task, completed=n),
                options=WorkerOptions.from_settings(settings),
            )
        async with pool.connection() as conn:
            # The week-8 patient (third in DEMO_PATIENTS).
            await _red_flag_checkin(conn, patients[2][1], settings)
    return logins, [(spec, pid) for spec, pid, _ in patients]


async def _red_flag_checkin(
    conn: AsyncConnection[Any], patient_id: UUID, settings: Settings
) -> None:
    """Today's check-in of the week-8 patient reports new numbness: an urgent alert to triage."""
    patient = await get_patient(conn, patient_id)
    assert patient is not None
    await record_checkin(
        conn,
        patient,
        CheckinIn(
            pain_0_10=7,
            stretching_sessions=1,
            strength_session=False,
            red_flags=["numbness_or_weakness"],
            note="left foot feels numb since this morning",
        ),
        by=None,
        digest_interval_s=settings.notify_digest_interval_s,
    )


async def print_last_days(
    db_url: str, patients: list[tuple[DemoPatient, UUID]], console: Console, *, days: int = 7
) -> None:
    table = Table(title=f"Last {days} days (today in progress)", show_lines=False)
    for column, justify in (
        ("patient", "left"),
        ("date", "left"),
        ("steps", "right"),
        ("active min", "right"),
        ("wear h", "right"),
        ("HR avg", "right"),
        ("HR max", "right"),
        ("status", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for spec, patient_id in patients:
            today = datetime.now(UTC).astimezone(ZoneInfo(spec.tz)).date()
            cur = await conn.execute(
                "SELECT summary FROM daily_summaries WHERE patient_id = %s AND day > %s"
                " AND day <= %s ORDER BY day",
                (patient_id, today - timedelta(days=days), today),
            )
            rows = await cur.fetchall()
            for i, (summary,) in enumerate(rows):
                hr = summary.get("heart_rate") or {}
                table.add_row(
                    spec.name if i == 0 else "",
                    summary["date"],
                    f"{summary['steps']:,}",
                    str(summary["active_minutes"]),
                    f"{summary['wear_minutes'] / 60:.1f}",
                    "–" if hr.get("avg") is None else f"{hr['avg']:.0f}",
                    "–" if hr.get("max") is None else f"{hr['max']:.0f}",
                    summary["status"].replace("_", " "),
                    end_section=i == len(rows) - 1,
                )
    console.print(table)
    await print_trajectories(db_url, patients, console)


async def print_trajectories(
    db_url: str, patients: list[tuple[DemoPatient, UUID]], console: Console
) -> None:
    """Each demo patient's recovery: baseline, complete weeks against the band, milestones."""
    table = Table(title="Recovery against the expected band (complete weeks)")
    for column in ("patient", "baseline", "weeks: % of baseline (band) or steps/day", "milestones"):
        table.add_column(column)
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for spec, patient_id in patients:
            patient = await get_patient(conn, patient_id)
            assert patient is not None
            t = await trajectory_of(conn, patient)
            baseline = (
                "none" if t.baseline is None else f"{t.baseline.steps_per_day:,.0f} steps/day"
            )
            weeks = [
                f"{w.week}: {w.pct_of_baseline:.0f} % ({w.band_low_pct:.0f}–{w.band_high_pct:.0f})"
                if w.pct_of_baseline is not None
                else f"{w.week}: {w.median_steps:,.0f}"
                for w in t.weeks
                if w.complete and w.median_steps is not None
            ]
            milestones = [
                f"{m.label}: {m.status}" + (f" {m.met_on}" if m.met_on else "")
                for m in t.milestones
                if m.status != "not_applicable"
            ]
            behind = " [bold]RECOVERY_BEHIND[/]" if t.behind else ""
            table.add_row(
                spec.name + behind, baseline, "\n".join(weeks) or "–", "\n".join(milestones)
            )
    console.print(table)
