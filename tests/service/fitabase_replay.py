"""Replay the Fitabase subset as patients through ``POST /v1/ingest`` and the worker.

Each of the 10 users of ``tests/fixtures/fitabase`` (why these: its SOURCE.txt) becomes a patient
8 weeks after an endoscopic discectomy on the data's first day, with a device of their own. Their
minute steps (one sample per minute, ``interval_s=60``, ending at the minute's end) and second-level
heart rate are posted in time order, in batches of at most 20,000 samples, with the device's token;
then the worker drains the queue. The stored summaries are compared with the vendor's daily totals
and their flags counted per patient-week.

Standalone, against ``REHAB_TEST_DATABASE_URL`` or else an embedded PostgreSQL in a temporary
directory (as the test fixtures do), in a fresh database dropped at the end::

    python -m tests.service.fitabase_replay

prints the flags per patient-week by rule and severity, per user, and the steps comparison;
``--list`` adds one line per non-urgent flag (user, day, rule, the day's steps and status).
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import orjson
import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from service.api import create_app
from service.db import make_pool, start_embedded, upgrade
from service.patients import PatientIn, add_device, add_patient
from service.worker import drain
from tests.fixtures.service import make_settings

__all__ = [
    "DATA",
    "FIRST_DAY",
    "SURGERY_DATE",
    "TZ",
    "FitabaseData",
    "ReplayResult",
    "UserData",
    "app_client",
    "format_report",
    "load_fitabase",
    "replay",
]

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "fitabase"
# Fitabase times are the band's local wall-clock time; the heart-rate file is consistent with
# America/New_York (tests/fixtures/fitabase/SOURCE.txt), so every user is read in that zone.
TZ = "America/New_York"
FIRST_DAY = date(2016, 4, 12)  # the data set's first day (SOURCE.txt)
# Patients 8 weeks (56 days) after their surgery on the data's first day: week 9 of the plan.
SURGERY_DATE = FIRST_DAY - timedelta(days=56)
BIRTH_YEAR = 1970  # a fixed, plausible age (46 in 2016); Fitabase has no ages
# Batches of at most 20,000 samples: well inside the wire format's 50,000 and 8 MiB limits.
BATCH_SAMPLES = 20_000
DAY_MINUTES = 1_440
NON_URGENT = ("info", "warning")
SEVERITIES = ("info", "warning", "urgent")


@dataclass(frozen=True)
class VendorDay:
    total_steps: int
    minutes_present: int  # minute rows of the day in the intraday file
    minute_sum: int  # their steps

    @property
    def exact(self) -> bool:
        """Complete day whose minutes add up to the vendor's total (strict ground truth)."""
        return self.minutes_present == DAY_MINUTES and self.minute_sum == self.total_steps


@dataclass(frozen=True)
class UserData:
    user_id: int
    steps_end_s: np.ndarray  # UTC epoch s of each minute's end
    steps_count: np.ndarray
    hr_t_s: np.ndarray  # UTC epoch s
    hr_bpm: np.ndarray
    vendor: dict[date, VendorDay]

    @property
    def first_day(self) -> date:
        return min(self.vendor)

    @property
    def last_day(self) -> date:
        return max(self.vendor)

    @property
    def span_days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class FitabaseData:
    users: tuple[UserData, ...]


def _local_to_utc_s(local_s: np.ndarray, tz: str) -> np.ndarray:
    """Local wall-clock epoch seconds (read as if UTC) to true UTC epoch seconds, hour by hour."""
    zone = ZoneInfo(tz)
    hours = local_s // 3600
    offsets: dict[int, int] = {}
    for hour in np.unique(hours).tolist():
        wall = datetime(1970, 1, 1) + timedelta(hours=hour)
        offset = wall.replace(tzinfo=zone).utcoffset()
        assert offset is not None
        offsets[hour] = int(offset.total_seconds())
    uniq, inverse = np.unique(hours, return_inverse=True)
    shift = np.array([offsets[h] for h in uniq.tolist()], dtype=np.int64)[inverse]
    return local_s - shift


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _mdy_s(mdy: str) -> int:
    month, day, year = (int(p) for p in mdy.split("/"))
    return (date(year, month, day).toordinal() - _EPOCH_ORDINAL) * 86_400


def _clock_s(clock: str) -> int:
    hms, ampm = clock.split(" ")
    h, m, s = (int(p) for p in hms.split(":"))
    return (h % 12 + (12 if ampm == "PM" else 0)) * 3600 + m * 60 + s


def _read_minute_steps(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, local minute-start times (epoch s as if UTC) and steps of the minute steps file."""
    day_cache: dict[str, int] = {}
    clock_cache: dict[str, int] = {}
    ids: list[int] = []
    times: list[int] = []
    steps: list[int] = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        next(handle)  # Id,ActivityMinute,Steps
        for line in handle:
            uid, when, count = line.rstrip("\r\n").split(",")
            day_part, clock = when.split(" ", 1)
            day_s = day_cache.get(day_part)
            if day_s is None:
                day_s = day_cache[day_part] = _mdy_s(day_part)
            sec = clock_cache.get(clock)
            if sec is None:
                sec = clock_cache[clock] = _clock_s(clock)
            ids.append(int(uid))
            times.append(day_s + sec)
            steps.append(int(count))
    return np.array(ids), np.array(times, dtype=np.int64), np.array(steps, dtype=np.int64)


def _read_heart_rate(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, local times (epoch s as if UTC) and bpm of the heart-rate file."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        next(handle)  # Id,Time,Value
        rows = [line.rstrip("\r\n").split(",") for line in handle]
    ids = np.array([int(r[0]) for r in rows])
    local = np.array([r[1].replace(" ", "T") for r in rows], dtype="datetime64[s]")
    bpm = np.array([int(r[2]) for r in rows], dtype=np.int64)
    return ids, local.astype(np.int64), bpm


def load_fitabase(data_dir: Path = DATA, *, tz: str = TZ) -> FitabaseData:
    """The subset's users with their samples in UTC and their vendor days."""
    s_ids, s_local, s_steps = _read_minute_steps(data_dir / "minuteStepsNarrow_10users.csv.gz")
    h_ids, h_local, h_bpm = _read_heart_rate(data_dir / "heartrate_seconds_4users.csv.gz")
    with (data_dir / "dailyActivity_10users.csv").open(newline="", encoding="utf-8") as handle:
        daily = list(csv.DictReader(handle))
    users = []
    for uid in sorted({int(r["Id"]) for r in daily}):
        sel = s_ids == uid
        local, counts = s_local[sel], s_steps[sel]
        minute_day = local // 86_400
        vendor = {}
        for row in daily:
            if int(row["Id"]) != uid:
                continue
            day_s = _mdy_s(row["ActivityDate"])
            on_day = minute_day == day_s // 86_400
            vendor[date.fromordinal(day_s // 86_400 + _EPOCH_ORDINAL)] = VendorDay(
                total_steps=int(row["TotalSteps"]),
                minutes_present=int(on_day.sum()),
                minute_sum=int(counts[on_day].sum()),
            )
        hsel = h_ids == uid
        hr_order = np.argsort(h_local[hsel], kind="stable")
        users.append(
            UserData(
                user_id=uid,
                # Each row counts the steps of the minute it starts: the interval ends 60 s later.
                steps_end_s=_local_to_utc_s(local, tz) + 60,
                steps_count=counts,
                hr_t_s=_local_to_utc_s(h_local[hsel][hr_order], tz),
                hr_bpm=h_bpm[hsel][hr_order],
                vendor=vendor,
            )
        )
    return FitabaseData(users=tuple(users))


def _rfc3339(epoch_s: np.ndarray) -> list[str]:
    return [f"{t}Z" for t in np.datetime_as_string(epoch_s.astype("datetime64[s]"), unit="s")]


def _batches(user: UserData) -> Iterator[bytes]:
    """The user's samples in time order, as ingest bodies of at most BATCH_SAMPLES samples."""
    t = np.concatenate([user.steps_end_s, user.hr_t_s])
    is_hr = np.concatenate([np.zeros(len(user.steps_end_s), bool), np.ones(len(user.hr_t_s), bool)])
    value = np.concatenate([user.steps_count, user.hr_bpm])
    order = np.argsort(t, kind="stable")
    t, is_hr, value = t[order], is_hr[order], value[order]
    for lo in range(0, len(t), BATCH_SAMPLES):
        hi = lo + BATCH_SAMPLES
        samples: list[dict[str, Any]] = [
            {"kind": "heart_rate", "t": when, "bpm": v}
            if hr
            else {"kind": "steps", "t": when, "steps": v, "interval_s": 60}
            for when, hr, v in zip(
                _rfc3339(t[lo:hi]), is_hr[lo:hi].tolist(), value[lo:hi].tolist(), strict=True
            )
        ]
        yield orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples})


@dataclass
class UserOutcome:
    user_id: int
    patient_id: UUID
    span_days: int
    monitoring_from: date | None = None
    summaries: dict[date, tuple[int, str, list[dict[str, Any]]]] = field(default_factory=dict)


@dataclass
class ReplayResult:
    data: FitabaseData
    outcomes: list[UserOutcome]
    samples_posted: int
    ingest_s: float
    drain_s: float
    days_recomputed: int

    @property
    def patient_weeks(self) -> float:
        """Patient-days from each user's first to last vendor day, in weeks."""
        return sum(o.span_days for o in self.outcomes) / 7

    def users(self) -> Iterator[tuple[UserData, UserOutcome]]:
        yield from zip(self.data.users, self.outcomes, strict=True)

    def flags_in_span(self) -> Iterator[tuple[int, date, dict[str, Any]]]:
        """(user id, day, flag) of every stored flag from a user's first to last vendor day."""
        for user, outcome in self.users():
            for day, (_, _, flags) in sorted(outcome.summaries.items()):
                if user.first_day <= day <= user.last_day:
                    for flag in flags:
                        yield user.user_id, day, flag

    def flag_counts(self) -> Counter[tuple[str, str]]:
        return Counter((f["code"], f["severity"]) for _, _, f in self.flags_in_span())

    def non_urgent_per_patient_week(self) -> float:
        counts = self.flag_counts()
        return sum(n for (_, sev), n in counts.items() if sev in NON_URGENT) / self.patient_weeks

    def steps_mismatches(self) -> list[tuple[int, date, int, int | None]]:
        """(user, day, vendor TotalSteps, stored steps) of exact vendor days that differ."""
        out = []
        for user, outcome in self.users():
            for day, vendor in sorted(user.vendor.items()):
                if not vendor.exact:
                    continue
                stored = outcome.summaries.get(day)
                steps = None if stored is None else stored[0]
                if steps != vendor.total_steps:
                    out.append((user.user_id, day, vendor.total_steps, steps))
        return out

    def exact_days(self) -> int:
        return sum(v.exact for u in self.data.users for v in u.vendor.values())

    def days_outside_span(self) -> list[tuple[int, date, str, int]]:
        """(user, day, status, flags) of stored summaries before or after a user's vendor days."""
        return [
            (user.user_id, day, status, len(flags))
            for user, outcome in self.users()
            for day, (_, status, flags) in sorted(outcome.summaries.items())
            if not user.first_day <= day <= user.last_day
        ]

    def unjudged_days(self) -> list[tuple[int, date]]:
        """Days from a user's first to last vendor day without a stored summary."""
        out = []
        for user, outcome in self.users():
            for i in range(user.span_days):
                day = user.first_day + timedelta(days=i)
                if day not in outcome.summaries:
                    out.append((user.user_id, day))
        return out


async def _post(client: httpx.AsyncClient, token: str, body: bytes) -> int:
    response = await client.post(
        "/v1/ingest",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    if response.status_code != 200:
        raise AssertionError(f"ingest answered {response.status_code}: {response.text[:500]}")
    answer = response.json()
    return int(answer["accepted"]) + int(answer["duplicates"])


async def replay(
    client: httpx.AsyncClient, db_url: str, data: FitabaseData | None = None
) -> ReplayResult:
    """Enrol every user as a patient with a device, post their samples, drain the worker."""
    data = load_fitabase() if data is None else data
    tokens: list[tuple[UUID, str]] = []
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for user in data.users:
            patient_id = await add_patient(
                conn,
                PatientIn(
                    display_name=f"Fitabase {user.user_id}",
                    birth_year=BIRTH_YEAR,
                    tz=TZ,
                    surgery_type="discectomy",
                    surgery_date=SURGERY_DATE,
                    approach="endoscopic",
                ),
                team="fitabase",
            )
            _, token = await add_device(conn, patient_id=patient_id)
            tokens.append((patient_id, token))
    posted = 0
    started = time.perf_counter()
    for user, (_, token) in zip(data.users, tokens, strict=True):
        for body in _batches(user):
            posted += await _post(client, token, body)
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(db_url, make_settings(db_url))
    async with pool:
        recomputed = await drain(pool)
    drain_s = time.perf_counter() - started
    outcomes = []
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for user, (patient_id, _) in zip(data.users, tokens, strict=True):
            cur = await conn.execute(
                "SELECT monitoring_from FROM patients WHERE id = %s", (patient_id,)
            )
            row = await cur.fetchone()
            monitoring_from: date | None = None if row is None else row[0]
            outcome = UserOutcome(user.user_id, patient_id, user.span_days, monitoring_from)
            cur = await conn.execute(
                "SELECT day, steps, status, summary -> 'flags' FROM daily_summaries"
                " WHERE patient_id = %s ORDER BY day",
                (patient_id,),
            )
            for day, steps, status, flags in await cur.fetchall():
                outcome.summaries[day] = (int(steps), str(status), list(flags or []))
            outcomes.append(outcome)
    return ReplayResult(
        data=data,
        outcomes=outcomes,
        samples_posted=posted,
        ingest_s=ingest_s,
        drain_s=drain_s,
        days_recomputed=recomputed,
    )


def format_report(result: ReplayResult) -> str:
    weeks = result.patient_weeks
    lines = [
        f"Fitabase replay: {len(result.outcomes)} patients, {weeks:.2f} patient-weeks"
        f" (first to last vendor day), {result.samples_posted:,} samples posted in"
        f" {result.ingest_s:.1f} s, {result.days_recomputed} days recomputed in"
        f" {result.drain_s:.1f} s",
        "",
        f"{'rule':<30} {'severity':<8} {'flags':>6} {'per patient-week':>17}",
    ]
    counts = result.flag_counts()
    for (code, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"{code:<30} {severity:<8} {n:>6} {n / weeks:>17.2f}")
    for severity in SEVERITIES:
        n = sum(v for (_, s), v in counts.items() if s == severity)
        lines.append(f"{'all ' + severity:<30} {'':<8} {n:>6} {n / weeks:>17.2f}")
    non_urgent = sum(v for (_, s), v in counts.items() if s in NON_URGENT)
    lines.append(f"{'non-urgent (info + warning)':<39} {non_urgent:>6} {non_urgent / weeks:>17.2f}")
    lines += ["", f"{'user':<11} {'days':>4} {'summaries':>9} {'non-urgent/wk':>13}  flags by rule"]
    for user, outcome in result.users():
        mine = Counter(f["code"] for uid, _, f in result.flags_in_span() if uid == user.user_id)
        nu = sum(
            1
            for uid, _, f in result.flags_in_span()
            if uid == user.user_id and f["severity"] in NON_URGENT
        )
        by_rule = ", ".join(f"{c} {n}" for c, n in sorted(mine.items())) or "-"
        lines.append(
            f"{user.user_id:<11} {outcome.span_days:>4} {len(outcome.summaries):>9}"
            f" {nu / (outcome.span_days / 7):>13.2f}  {by_rule}"
        )
    statuses = Counter(s for o in result.outcomes for (_, s, _) in o.summaries.values())
    mismatches = result.steps_mismatches()
    unjudged = result.unjudged_days()
    outside = result.days_outside_span()
    lines += [
        "",
        "statuses: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())),
        f"exact vendor days: {result.exact_days()}, stored steps differ on {len(mismatches)}"
        + (f": {mismatches[:5]}" if mismatches else ""),
        f"days in the users' spans without a summary: {len(unjudged)}"
        + (f": {[(u, str(d)) for u, d in unjudged[:8]]}" if unjudged else ""),
        f"summaries outside the users' spans (not counted above): {len(outside)}"
        + (f", {sum(n for *_, n in outside)} flags" if outside else "")
        + (f"; e.g. {[(u, str(d), s) for u, d, s, _ in outside[:3]]}" if outside else ""),
    ]
    return "\n".join(lines)


def format_flag_list(result: ReplayResult) -> str:
    """One line per non-urgent flag in the users' spans: user, day, rule, severity, day figures."""
    lines = []
    summaries = {o.user_id: o.summaries for o in result.outcomes}
    for uid, day, flag in result.flags_in_span():
        if flag["severity"] in NON_URGENT:
            steps, status, _ = summaries[uid][day]
            lines.append(
                f"{uid} {day} {flag['code']:<28} {flag['severity']:<7} {status:<17}"
                f" {steps:>6} steps  {orjson.dumps(flag['evidence']).decode()}"
            )
    return "\n".join(lines)


def _with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)  # type: ignore[arg-type]


@contextmanager
def _server_url() -> Iterator[str]:
    url = os.environ.get("REHAB_TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Not under /root: run as root, the embedded server makes every ancestor traversable.
    with tempfile.TemporaryDirectory(prefix="rehab-replay-pg-", dir="/var/tmp") as tmp:
        yield start_embedded(Path(tmp))


@contextmanager
def _scratch_database(server_url: str) -> Iterator[str]:
    name = f"rehab_replay_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = _with_dbname(server_url, name)
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@asynccontextmanager
async def app_client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _main(argv: list[str]) -> None:
    data = load_fitabase()
    with _server_url() as server, _scratch_database(server) as db_url:
        async with app_client(db_url) as client:
            result = await replay(client, db_url, data)
    sys.stdout.write(format_report(result) + "\n")
    if "--list" in argv:
        sys.stdout.write("\nnon-urgent flags:\n" + format_flag_list(result) + "\n")


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
