"""A running ``rehab demo`` on a fresh test database, and a headless Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
from psycopg import AsyncConnection

import analysis
from service.accounts import create_user
from service.demo import DEMO_TEAM
from service.patients import PatientIn, add_device, add_patient
from tests.web.web_helpers import day_summary, store_day

# Launch options the brief prescribes for Debian's Chromium (never a downloaded browser).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The folder the browser tests write their screenshots to (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Tunable default: the demo loads in about 20 s on two cores; allow for a busy machine.
DEMO_START_TIMEOUT_S = 180

_LOGIN = re.compile(r"(clinician|patient) login:\s+(\S+@\S+) / (\S+)")
_SERVING = re.compile(r"serving on (http://\S+)")


@dataclass(frozen=True)
class RunningDemo:
    url: str
    clinician: tuple[str, str]
    patient: tuple[str, str]
    output: list[str]
    db_url: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pump(stream: object, lines: list[str], ready: threading.Event) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line.rstrip("\n"))
        if _SERVING.search(line):
            ready.set()
    ready.set()


def _wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy")


def run_demo(db_url: str) -> Iterator[RunningDemo]:
    """Start ``rehab demo`` against ``db_url``; yield once it serves; stop it afterwards."""
    rehab = Path(sys.executable).parent / "rehab"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHAB_")}
    with tempfile.TemporaryDirectory(prefix="rehab-web-", dir="/var/tmp") as data_dir:
        env.update(
            REHAB_DATABASE_URL=db_url,
            REHAB_DATA_DIR=data_dir,
            NO_COLOR="1",
            TERM="dumb",
            COLUMNS="200",
        )
        proc = subprocess.Popen(
            [str(rehab), "demo", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        ready = threading.Event()
        pump = threading.Thread(target=_pump, args=(proc.stdout, lines, ready), daemon=True)
        pump.start()
        try:
            ready.wait(DEMO_START_TIMEOUT_S)
            text = "\n".join(lines)
            serving = _SERVING.search(text)
            assert serving is not None, "rehab demo did not start serving:\n" + text[-3000:]
            logins = {m.group(1): (m.group(2), m.group(3)) for m in _LOGIN.finditer(text)}
            url = serving.group(1)
            _wait_healthy(url, time.monotonic() + 30)
            yield RunningDemo(
                url=url,
                clinician=logins["clinician"],
                patient=logins["patient"],
                output=lines,
                db_url=db_url,
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            pump.join(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()


OVER_DOER = "Olive Overdo"
OVER_DOER_MRN = "MRN-4711"
OVER_DOER_EMAIL = "olive@demo.example"
OVER_DOER_PASSWORD = "olive walks far too much"
_OVER = analysis.Flag(
    code="DAILY_OVER_TARGET",
    severity="warning",
    message="Doing much more than planned can slow healing: rest for the rest of today.",
    evidence={"aerobic_minutes": 75, "aerobic_min_high": 20, "week": 2, "over_ratio": 1.5},
)
_TOO_LONG = analysis.Flag(
    code="SESSION_TOO_LONG",
    severity="warning",
    message="Split long walks into shorter ones, with a rest between them.",
    evidence={
        "session_kind": "walking",
        "duration_min": 75,
        "max_session_min": 20,
        "week": 2,
        "sessions_over": 1,
    },
)


async def _seed_over_doer(db_url: str) -> str:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
        patient_id = await add_patient(
            conn,
            PatientIn(
                display_name=OVER_DOER,
                birth_year=1958,
                tz="Europe/Berlin",
                surgery_type="discectomy",
                surgery_date=today - timedelta(days=7),
                record_number=OVER_DOER_MRN,
            ),
            team=DEMO_TEAM,
        )
        await add_device(conn, patient_id=patient_id)
        await conn.execute(
            "UPDATE devices SET last_sample_at = now() - interval '12 minutes',"
            " last_seen_at = now() - interval '2 minutes', battery_pct = 58 WHERE patient_id = %s",
            (patient_id,),
        )
        await create_user(
            conn,
            email=OVER_DOER_EMAIL,
            password=OVER_DOER_PASSWORD,
            role="patient",
            team=DEMO_TEAM,
            patient_id=patient_id,
        )
        for back in range(7, 0, -1):
            day = today - timedelta(days=back)
            over = back == 1
            await store_day(
                conn,
                patient_id,
                day_summary(
                    day,
                    minutes=75 if over else 17,
                    status="above" if over else "on_track",
                    sessions_min=(75,) if over else (9, 8),
                    flags=(_OVER, _TOO_LONG) if over else (),
                ),
            )
        await store_day(
            conn,
            patient_id,
            day_summary(
                today,
                minutes=40,
                status="in_progress",
                sessions_min=(40,),
                flags=(replace(_TOO_LONG, evidence={**_TOO_LONG.evidence, "duration_min": 40}),),
            ),
        )
        yesterday = today - timedelta(days=1)
        await conn.execute(
            "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day, last_day,"
            " message, notify) SELECT id, team_id, 'DAILY_OVER_TARGET', 'analysis', 'warning',"
            " %s, %s, 'Doing much more than planned', 'now' FROM patients WHERE id = %s",
            (yesterday, yesterday, patient_id),
        )
    return str(patient_id)


def seed_over_doer(db_url: str) -> str:
    """A patient (with a login) who did 75 minutes in one walk yesterday against a plan of 15-20
    and is at it again today; an open over-target alert. Returns the patient id."""
    return asyncio.run(_seed_over_doer(db_url))


def expire_sessions(db_url: str, *, email: str, in_s: float) -> None:
    """Let ``email``'s browser sessions end ``in_s`` seconds from now (negative: already ended)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE access_tokens SET expires_at = now() + make_interval(secs => %s)"
            " WHERE user_id = (SELECT id FROM users WHERE email = %s) AND revoked_at IS NULL"
            " AND expires_at > now()",
            (in_s, email),
        )
