"""``rehab bench api``: the days route under 64 concurrent clients, next to a trivial route and
the care team's list.

A scratch database gets one patient with 30 days of full daily summaries, produced by the analysis
engine from seeded simulated days (the same documents the worker stores). ``rehab serve`` runs in
a subprocess (its own interpreter, so the load generator does not share its GIL); concurrent
clients then call ``GET /v1/patients/{id}/days`` (30 days) and, in the same run and against the
same app, ``GET /v1/auth/me`` (authentication only). Both go through the same access-control
dependency, so the difference is the route's own work: one indexed read and the JSON bytes.

The same run measures the care team's list (``GET /team``, an HTML page) of a second team of
100 patients, each with 30 recent stored summaries (the same documents, moved to the last 30
days), a hub and, for some, open alerts; its clinician's access token doubles as the
``rehab_session`` cookie (as in ``rehab bench fleet``). A last phase sends paced days requests
and paced team pages at once, a tenth of them team pages, to show what a page costs the API
requests queued behind it on the same process.

Two phases: at saturation (every client sends back to back: requests/s, and latencies that are
mostly queueing; three rounds of each route, alternating, pooled), then paced at half the days
route's measured capacity (latencies of a service running where it is meant to run, counted from
the scheduled send times).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import psycopg
from rich.console import Console
from rich.table import Table

from analysis import DaySummary, PatientProfile, analyse_day
from analysis.simulate import simulate_days
from service.bench.http import exchange
from service.bench.scratch import scratch_database, serve_in_subprocess

__all__ = ["run"]

# 2026-05-04T00:00:00Z, a fixed start so that runs are comparable (as in rehab bench analysis).
_T0_S = 1_777_852_800
_FIRST_DAY = date(2026, 5, 4)
# The route's default window: the last 30 days.
_DAYS = 30
# History handed to analyse_day, days (the engine uses three weeks).
_HISTORY_DAYS = 21
# Requests each client sends before timing starts (connections opened, caches warm).
_WARMUP_PER_CLIENT = 5


@dataclass(frozen=True)
class RouteResult:
    name: str
    requests: int
    elapsed_s: float
    latencies_ms: np.ndarray
    response_bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def _summaries(seed: int) -> list[dict[str, Any]]:
    """30 full daily summaries of one simulated patient, as the worker would store them."""
    patient = PatientProfile(
        birth_year=1961, surgery_type="fusion", approach="open", surgery_date=_FIRST_DAY
    )
    days = simulate_days(seed=seed, n_days=_DAYS, first_day_start_s=_T0_S, daily_walk_min=25.0)
    history: list[DaySummary] = []
    out = []
    for i, simulated in enumerate(days):
        summary = analyse_day(
            grid=simulated.build_grid(),
            day=_FIRST_DAY + timedelta(days=i),
            patient=patient,
            history=history[-_HISTORY_DAYS:],
        )
        history.append(summary)
        out.append(summary.to_dict())
    return out


# The care team's list: a team of 100 patients (issue 14's dashboard), each operated 30 days ago
# with a stored summary for each day since (tunable defaults).
_TEAM_PATIENTS = 100
# Every 3rd patient has an open warning, every 10th an open urgent alert (tunable default: a
# list with a mix of tiers and reasons to render).
_WARNING_EVERY = 3
_URGENT_EVERY = 10


def _load_team(db_url: str, summaries: list[dict[str, Any]]) -> str:
    """A second team of :data:`_TEAM_PATIENTS` patients with ``summaries`` moved to the last 30
    days, a hub each and some open alerts; return its clinician's token."""
    from service.accounts import ACCESS_TOKEN_PREFIX  # noqa: PLC0415 - bench-only import
    from service.auth import hash_token, new_token  # noqa: PLC0415

    today = datetime.now(UTC).date()
    surgery = today - timedelta(days=_DAYS)
    shift = surgery - _FIRST_DAY
    moved = [{**s, "date": (date.fromisoformat(s["date"]) + shift).isoformat()} for s in summaries]
    token = new_token(ACCESS_TOKEN_PREFIX)
    with psycopg.connect(db_url, autocommit=True) as conn:
        team = conn.execute(
            "INSERT INTO care_teams (name) VALUES ('bench list') RETURNING id"
        ).fetchone()
        user = conn.execute(
            "INSERT INTO users (email, password_hash, role) VALUES"
            " ('bench-list@clinic.example', 'not-a-login', 'clinician') RETURNING id"
        ).fetchone()
        assert team is not None
        assert user is not None
        conn.execute("INSERT INTO team_members VALUES (%s, %s)", (team[0], user[0]))
        conn.execute(
            "INSERT INTO access_tokens (token_hash, user_id, expires_at)"
            " VALUES (%s, %s, now() + interval '1 day')",
            (hash_token(token), user[0]),
        )
        with conn.cursor() as cur:
            ids = []
            for i in range(_TEAM_PATIENTS):
                cur.execute(
                    "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type,"
                    " surgery_date) VALUES (%s, %s, 1961, 'UTC', 'fusion', %s) RETURNING id",
                    (team[0], f"Bench Patient {i:03d}", surgery),
                )
                row = cur.fetchone()
                assert row is not None
                ids.append(row[0])
            cur.executemany(
                "INSERT INTO devices (patient_id, token_hash, last_seen_at, last_sample_at,"
                " battery_pct) VALUES (%s, %s, now() - interval '2 min',"
                " now() - interval '3 min', 80)",
                [(pid, hash_token(new_token("bench-hub"))) for pid in ids],
            )
            cur.executemany(
                "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes,"
                " active_minutes, aerobic_minutes, status, summary, analysis_version)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
                [
                    (
                        pid,
                        s["date"],
                        s["steps"],
                        s["wear_minutes"],
                        s["active_minutes"],
                        s["aerobic_minutes"],
                        s["status"],
                        orjson.dumps(s).decode(),
                        s["analysis_version"],
                    )
                    for pid in ids
                    for s in moved
                ],
            )
            alerts = [
                (pid, team[0], rule, severity, today - timedelta(days=2))
                for i, pid in enumerate(ids)
                for rule, severity, every in (
                    ("DAILY_OVER_TARGET", "warning", _WARNING_EVERY),
                    ("RED_FLAG_SYMPTOM", "urgent", _URGENT_EVERY),
                )
                if i % every == 0
            ]
            cur.executemany(
                "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day,"
                " last_day, message, notify) VALUES (%s, %s, %s, 'analysis', %s, %s,"
                " current_date, 'bench alert', 'none')",
                alerts,
            )
        conn.execute("ANALYZE")
    return token


def _load(db_url: str, summaries: list[dict[str, Any]]) -> tuple[str, str, int]:
    """Create the patient, its summaries and a clinician token; return (patient id, token, bytes)."""
    from service.accounts import ACCESS_TOKEN_PREFIX  # noqa: PLC0415 - bench-only import
    from service.auth import hash_token, new_token  # noqa: PLC0415

    token = new_token(ACCESS_TOKEN_PREFIX)
    with psycopg.connect(db_url, autocommit=True) as conn:
        team = conn.execute(
            "INSERT INTO care_teams (name) VALUES ('bench') RETURNING id"
        ).fetchone()
        assert team is not None
        patient = conn.execute(
            "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type,"
            " surgery_date) VALUES (%s, 'Bench Patient', 1961, 'UTC', 'fusion', %s) RETURNING id",
            (team[0], _FIRST_DAY),
        ).fetchone()
        assert patient is not None
        user = conn.execute(
            "INSERT INTO users (email, password_hash, role) VALUES"
            " ('bench@clinic.example', 'not-a-login', 'clinician') RETURNING id"
        ).fetchone()
        assert user is not None
        conn.execute("INSERT INTO team_members VALUES (%s, %s)", (team[0], user[0]))
        conn.execute(
            "INSERT INTO access_tokens (token_hash, user_id, expires_at)"
            " VALUES (%s, %s, now() + interval '1 day')",
            (hash_token(token), user[0]),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes,"
                " active_minutes, status, summary, analysis_version)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
                [
                    (
                        patient[0],
                        s["date"],
                        s["steps"],
                        s["wear_minutes"],
                        s["active_minutes"],
                        s["status"],
                        orjson.dumps(s).decode(),
                        s["analysis_version"],
                    )
                    for s in summaries
                ],
            )
    return str(patient[0]), token, len(orjson.dumps(summaries))


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, int]:
    """One keep-alive HTTP/1.1 GET on an open connection; return (status, body length)."""
    status, body, _ = await exchange(reader, writer, request)
    return status, len(body)


async def _drive(
    url: str,
    path: str,
    headers: str,
    *,
    clients: int,
    requests_per_client: int,
    name: str,
    interval_s: float | None = None,
) -> RouteResult:
    """``clients`` connections, each sending requests back to back (a closed-loop load).

    With ``interval_s``, each client instead sends one request every ``interval_s`` on a fixed
    schedule (clients staggered evenly), and a latency counts from the scheduled send time: a
    request held up behind a slow one is charged the wait, so that slow responses cannot hide
    the requests they delay (the "coordinated omission" correction of wrk2 / HdrHistogram).
    """
    host, port = url.removeprefix("http://").split(":")
    # The benchmarks' own HTTP/1.1 client (service.bench.http says why not httpx).
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}\r\n").encode()
    latencies: list[float] = []
    sizes: list[int] = []
    warm = 0
    all_warm = asyncio.Event()
    start = asyncio.Event()

    async def one_client(index: int) -> None:
        nonlocal warm
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for _ in range(_WARMUP_PER_CLIENT):
                await _get(reader, writer, request)
            warm += 1
            if warm == clients:
                all_warm.set()
            await start.wait()
            for k in range(requests_per_client):
                t0 = time.perf_counter()
                if interval_s is not None:
                    t0 = started + (index / clients + k) * interval_s
                    await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
                status, size = await _get(reader, writer, request)
                latencies.append((time.perf_counter() - t0) * 1000.0)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
                sizes.append(size)
        finally:
            writer.close()

    started = 0.0
    tasks = [asyncio.create_task(one_client(i)) for i in range(clients)]
    # Every client connects and warms up before the clock starts.
    await asyncio.wait(
        [asyncio.create_task(all_warm.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED
    )
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    elapsed_s = time.perf_counter() - started
    return RouteResult(name, len(latencies), elapsed_s, np.array(latencies), max(sizes))


# The paced phase offers half the days route's measured capacity: latency at a utilisation where
# a service is meant to run, rather than at saturation, where it is only queueing.
_PACED_UTILISATION = 0.5


# Saturation runs per route; their requests and times are pooled.
_ROUNDS = 3


def _pooled(name: str, runs: list[RouteResult]) -> RouteResult:
    """One result from several runs of a route: all requests over the runs' summed time."""
    return RouteResult(
        name,
        sum(r.requests for r in runs),
        sum(r.elapsed_s for r in runs),
        np.concatenate([r.latencies_ms for r in runs]),
        max(r.response_bytes for r in runs),
    )


def _table(title: str, results: list[RouteResult], trivial_rps: float | None) -> Table:
    table = Table(title=title)
    columns = ["route", "requests", "req/s", "p50 ms", "p99 ms", "bytes"]
    for column in [*columns, "vs trivial"] if trivial_rps else columns:
        table.add_column(column, justify="left" if column == "route" else "right")
    for r in results:
        cells = [
            r.name,
            str(r.requests),
            f"{r.rps:,.0f}",
            f"{r.percentile_ms(50):.1f}",
            f"{r.percentile_ms(99):.1f}",
            f"{r.response_bytes:,}",
        ]
        table.add_row(*cells, *([f"{r.rps / trivial_rps:.2f}"] if trivial_rps else []))
    return table


def _api_headers(token: str) -> str:
    return f"Authorization: Bearer {token}\r\nAccept: application/json\r\n"


def _page_headers(token: str) -> str:
    # The access token doubles as the page session cookie (as in rehab bench fleet).
    return f"Cookie: rehab_session={token}\r\nAccept: text/html\r\n"


# The team page costs tens of times a days request and holds a pooled connection while it
# reads: a few care teams' clients at once (tunable default, below the default pool size, so
# that the page is measured rather than the pool's wait).
_TEAM_CLIENTS = 4
# The mixed phase: paced days requests and team pages at once, a tenth of them team pages (as
# rehab bench fleet's default dashboard mix), at issue 14's 100 dashboard requests/s.
_MIXED_RPS = 100.0
_MIXED_TEAM_SHARE = 0.1


def run(
    console: Console, *, server_url: str, clients: int, requests_per_client: int, seed: int
) -> None:
    """Load a scratch database, serve it, drive the routes and print the comparison.

    First at saturation (every client sends back to back), then paced at half the days route's
    measured capacity, with latencies from the scheduled send times; then days requests and
    team pages paced at once.
    """
    with scratch_database(server_url) as db_url:
        summaries = _summaries(seed)
        patient_id, token, payload_bytes = _load(db_url, summaries)
        team_token = _load_team(db_url, summaries)
        console.print(
            f"30 full daily summaries: {payload_bytes / 1024:.0f} KiB of JSON per days response; "
            f"team list: {_TEAM_PATIENTS} patients with 30 stored days each"
        )
        api = _api_headers(token)
        trivial = ("/v1/auth/me", "/v1/auth/me", api)
        days_route = (
            "/v1/patients/{id}/days",
            f"/v1/patients/{patient_id}/days"
            f"?from={_FIRST_DAY}&to={_FIRST_DAY + timedelta(days=_DAYS - 1)}",
            api,
        )
        team_route = ("/team", "/team", _page_headers(team_token))

        def drive(
            url: str,
            name: str,
            path: str,
            headers: str,
            interval_s: float | None = None,
            *,
            n_clients: int = clients,
            per_client: int = requests_per_client,
        ) -> RouteResult:
            return asyncio.run(
                _drive(
                    url,
                    path,
                    headers,
                    clients=n_clients,
                    requests_per_client=per_client,
                    name=name,
                    interval_s=interval_s,
                )
            )

        async def mixed(url: str) -> list[RouteResult]:
            duration_s = requests_per_client * clients / (_MIXED_RPS * (1 - _MIXED_TEAM_SHARE))
            days_interval = clients / (_MIXED_RPS * (1 - _MIXED_TEAM_SHARE))
            team_interval = _TEAM_CLIENTS / (_MIXED_RPS * _MIXED_TEAM_SHARE)
            days_name, days_path, days_headers = days_route
            team_name, team_path, team_headers = team_route
            return list(
                await asyncio.gather(
                    _drive(
                        url,
                        days_path,
                        days_headers,
                        clients=clients,
                        requests_per_client=requests_per_client,
                        name=days_name,
                        interval_s=days_interval,
                    ),
                    _drive(
                        url,
                        team_path,
                        team_headers,
                        clients=_TEAM_CLIENTS,
                        requests_per_client=max(int(duration_s / team_interval), 1),
                        name=team_name,
                        interval_s=team_interval,
                    ),
                )
            )

        with serve_in_subprocess(db_url) as url:
            # The routes alternate, trivial first and last, so that a slower or faster spell of
            # the machine falls on both.
            trivial_runs = [drive(url, *trivial)]
            days_runs = []
            for _ in range(_ROUNDS):
                days_runs.append(drive(url, *days_route))
                trivial_runs.append(drive(url, *trivial))
            team = drive(url, *team_route, n_clients=_TEAM_CLIENTS)
            saturated = [
                _pooled(trivial[0], trivial_runs),
                _pooled(days_route[0], days_runs),
                team,
            ]
            offered_rps = _PACED_UTILISATION * saturated[1].rps
            interval_s = clients / offered_rps
            paced = [drive(url, *route, interval_s=interval_s) for route in (trivial, days_route)]
            team_interval_s = _TEAM_CLIENTS / (_PACED_UTILISATION * team.rps)
            paced.append(
                drive(url, *team_route, interval_s=team_interval_s, n_clients=_TEAM_CLIENTS)
            )
            together = asyncio.run(mixed(url))
    trivial_rps = saturated[0].rps
    neighbours = [
        f"{d.rps / ((trivial_runs[i].rps + trivial_runs[i + 1].rps) / 2):.2f}"
        for i, d in enumerate(days_runs)
    ]
    title = (
        f"{clients} concurrent clients sending back to back (saturation), rehab serve; "
        f"{_ROUNDS} rounds of each API route, alternating, then the team page "
        f"({_TEAM_CLIENTS} clients)"
    )
    console.print(_table(title, saturated, trivial_rps))
    days = saturated[1]
    console.print(
        f"days route: {days.rps / trivial_rps:.2f} of the trivial route's requests/s "
        f"(each days run against the trivial runs either side: {', '.join(neighbours)}); "
        f"p99 {days.percentile_ms(99):.1f} ms. With {clients} clients sending back to back, "
        "latency is mostly queueing: p50 ≈ clients ÷ requests/s."
    )
    title = (
        f"{clients} clients paced: one request each every {interval_s * 1000:.0f} ms, "
        f"{offered_rps:,.0f} req/s offered ({_PACED_UTILISATION:.0%} of the days route's "
        f"capacity above); the team page ({_TEAM_CLIENTS} clients) at "
        f"{_PACED_UTILISATION:.0%} of its own ({_PACED_UTILISATION * team.rps:,.1f} req/s)"
    )
    console.print(_table(title, paced, None))
    console.print(
        "Paced latencies count from each request's scheduled send time, so a slow response "
        f"also charges the requests it held up. Days route p99 at this load: "
        f"{paced[1].percentile_ms(99):.1f} ms."
    )
    title = (
        f"Days requests and team pages at once: {_MIXED_RPS:.0f} req/s, "
        f"{_MIXED_TEAM_SHARE:.0%} of them team pages, both paced"
    )
    console.print(_table(title, together, None))
    console.print(
        f"Days route p99 with team pages on the same process: "
        f"{together[0].percentile_ms(99):.1f} ms (team page p50 "
        f"{together[1].percentile_ms(50):.1f} ms)."
    )
