"""The load generator: hubs, dashboards, the staleness poller, progress; and the whole run."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import psycopg
from rich.console import Console

import wire
from analysis.config import load_thresholds
from collector.wire import format_time
from service.bench.fleet.options import DAYS_ROUTE, TEAM_ROUTE, FleetOptions
from service.bench.fleet.prefill import HISTORY_DAYS, NO_PREFILL, Prefill, prefill
from service.bench.fleet.processes import CpuMeter, processes
from service.bench.fleet.provision import Fleet, provision
from service.bench.fleet.replay import Replay
from service.bench.fleet.replay import replay as make_replay
from service.bench.fleet.results import (
    DayTrack,
    FleetResult,
    Latencies,
    State,
    fleet_table,
    verdict,
)
from service.bench.http import HttpError, Pool
from service.bench.scratch import scratch_database
from service.settings import Settings

__all__ = ["run"]

# Tunable default: a hub's upload is late by up to 5 s (uniform) after its phase.
_JITTER_S = 5.0
# Connections of the bounded pools (tunable defaults): uploads, and dashboard requests apart,
# so that a dashboard request never waits for a connection behind uploads in this process.
_UPLOAD_CONNECTIONS = 64
_DASHBOARD_CONNECTIONS = 32
# Tunable defaults: poll for new summaries every 2 s; a progress line every 30 s.
_POLL_S = 2.0
_PROGRESS_S = 30.0
# A summary transaction is short; look back this far behind the newest computed_at seen, so that
# one that started before the last poll and committed after it is still read.
_POLL_OVERLAP_S = 60.0
# Tunable default: at most this long for the workers' first sweep before the idle baseline (the
# sweep runs at a worker's start; 10,000 new patients' first days take a few minutes).
_SETTLE_TIMEOUT_S = 300.0
# Tunable default: team pages read at once while the caches are warmed before the baseline.
_WARM_AT_ONCE = 4


def _page_headers(token: str) -> bytes:
    """A clinician's page request: the access token doubles as the session cookie."""
    return f"Cookie: rehab_session={token}\r\nAccept: text/html\r\n".encode()


class _Bench:
    def __init__(
        self,
        console: Console,
        options: FleetOptions,
        fleet: Fleet,
        replay: Replay,
        prefill: Prefill,
        urls: list[str],
        db_url: str,
        page_urls: list[str] | None = None,
    ) -> None:
        self.console = console
        self.o = options
        self.fleet = fleet
        # One pool of each kind per rehab serve process, the connections shared out among them;
        # requests go to the processes round-robin, and the /team page to the page replicas
        # when there are any (as the proxy of deploy/compose.yaml routes them).
        addresses = [url.removeprefix("http://").split(":") for url in urls]
        up, dash = (math.ceil(n / len(urls)) for n in (_UPLOAD_CONNECTIONS, _DASHBOARD_CONNECTIONS))
        self.uploads = [Pool(host, int(port), up) for host, port in addresses]
        self.dash = [Pool(host, int(port), dash) for host, port in addresses]
        page_addresses = [url.removeprefix("http://").split(":") for url in page_urls or []]
        self.pages = [
            Pool(host, int(port), math.ceil(_DASHBOARD_CONNECTIONS / len(page_addresses)))
            for host, port in page_addresses
        ] or self.dash
        self.next_upload = itertools.count()
        self.next_dash = itertools.count()
        self.next_page = itertools.count()
        self.db_url = db_url
        self.state = State()
        self.rng = np.random.default_rng(options.seed)
        self.prefill = prefill
        self.profiles = replay.profiles
        self.profile_of = replay.profile_of
        self.offset = [int(o) for o in replay.offset]
        self.phase = self.rng.uniform(0.0, options.period_s, size=options.hubs)
        self.auth = [f"Authorization: Bearer {t}\r\n".encode() for t in fleet.device_tokens]
        self.index = {p: i for i, p in enumerate(fleet.patient_ids)}
        self.encoder = msgspec.json.Encoder()
        self.tasks: set[asyncio.Task[None]] = set()
        # The wear rule's shortest non-wear gap: an empty run shorter than this at the start of
        # the day counts as worn (analysis.grid.wear_mask).
        self.wear_gap_min = load_thresholds().wear.non_wear_min_gap_min
        # Set by the poller when every accepted batch has been seen summarised.
        self.all_seen = asyncio.Event()

    # ---------------------------------------------------------------- hubs

    def _body(self, hub: int, k: int, times: list[str]) -> tuple[bytes, int]:
        """The batch of hub ``hub``'s ``k``-th period (``times``: its seconds, then its end)."""
        p = self.o.period_s
        profile = self.profiles[int(self.profile_of[hub])]
        worn = profile.steps.size
        # Position in the replayed day, in seconds: the hub's offset plus the periods sent.
        second = (self.offset[hub] * 60 + k * p) % (worn * 60)
        minute = second // 60
        bpm = profile.bpm[second : second + p]
        samples: list[wire.Sample] = [wire.HeartRate(t=times[j], bpm=int(bpm[j])) for j in range(p)]
        steps = round(float(profile.steps[minute]) * p / 60)
        samples.append(wire.Steps(t=times[p], steps=steps, interval_s=p))
        return self.encoder.encode(wire.Batch(batch_id=uuid.uuid4(), samples=samples)), steps

    async def _upload(
        self, hub: int, k: int, window_start: int, times: list[str], due: float
    ) -> None:
        st = self.state
        encoding = time.thread_time()
        body, steps = self._body(hub, k, times)
        st.encode_cpu_s += time.thread_time() - encoding
        st.samples_produced += self.o.period_s + 1
        st.batches_sent += 1
        sent = time.time()
        st.lateness_ms.append((sent - due) * 1000)
        try:
            status, payload = await self.uploads[
                next(self.next_upload) % len(self.uploads)
            ].request(
                "POST", "/v1/ingest", self.auth[hub] + b"Content-Type: application/json\r\n", body
            )
        except HttpError as exc:
            st.upload.errors[str(exc)] += 1
            return
        accepted_at = time.time()
        if status != 200:
            st.upload.errors[str(status)] += 1
            return
        st.upload.ms.append((accepted_at - sent) * 1000)
        st.batches_accepted += 1
        st.samples_accepted += int(msgspec.json.decode(payload)["accepted"])
        # The patient-day (UTC) and minute of the day of the batch's last sample.
        last = window_start + self.o.period_s - 1
        day = datetime.fromtimestamp(last, UTC).date()
        minute = (last % 86_400) // 60
        track = st.days.get((hub, day))
        if track is None:
            # The prefilled minutes of the day (from midnight, every one worn) and their steps.
            before, before_steps = 0, 0
            if day == self.prefill.day:
                before, before_steps = self.prefill.minutes, int(self.prefill.steps[hub])
            # Every uploaded minute has heart rate; the empty run between the prefilled minutes
            # (or midnight) and the first upload is worn when it is short (the wear rule). The
            # run may be negative: a first upload into the last prefilled minute.
            gap = minute - before
            lead = before + (gap if gap < self.wear_gap_min else 0)
            track = st.days[(hub, day)] = DayTrack(
                first_minute=minute, lead=lead, steps=before_steps
            )
        track.steps += steps
        track.need_wear.append(minute - track.first_minute + 1 + track.lead)
        track.need_steps.append(track.steps)
        track.accepted_at.append(accepted_at)
        self.all_seen.clear()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _hubs(self, start: float, end: float) -> None:
        """Every hub once per period, at its phase plus jitter, from ``start`` to ``end``."""
        p = self.o.period_s
        times: dict[int, list[str]] = {}  # the seconds of each period and its end, shared
        # (send time, hub, k): hub's k-th upload is due at start + phase + k·p plus jitter and
        # holds the last whole period before start + phase + k·p.
        jitter = self.rng.uniform(0.0, _JITTER_S, size=(self.o.hubs,))
        due = [(start + float(self.phase[h]) + float(jitter[h]), h, 0) for h in range(self.o.hubs)]
        heapq.heapify(due)
        while due and due[0][0] < end:
            at, hub, k = heapq.heappop(due)
            window = int((start + float(self.phase[hub]) + k * p) // p) * p - p
            if window not in times:
                times.pop(window - 2 * p, None)
                times[window] = [format_time(window + j) for j in range(p + 1)]
            self.state.batches_planned += 1
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._spawn(self._upload(hub, k, window, times[window], at))
            next_at = start + float(self.phase[hub]) + (k + 1) * p
            heapq.heappush(due, (next_at + float(self.rng.uniform(0.0, _JITTER_S)), hub, k + 1))

    # ---------------------------------------------------------------- dashboards

    async def _dashboard(self, start: float, end: float, into: dict[str, Latencies]) -> None:
        rng = np.random.default_rng(self.o.seed + 1)
        interval = 1.0 / self.o.dashboard_rps
        into.setdefault(DAYS_ROUTE, Latencies())
        into.setdefault(TEAM_ROUTE, Latencies())
        k = 0
        while True:
            due = start + k * interval
            if due >= end:
                return
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if rng.random() < self.o.team_share:
                team = int(rng.integers(0, len(self.fleet.clinician_tokens)))
                token = self.fleet.clinician_tokens[team]
                route, path = TEAM_ROUTE, "/team"
                headers = _page_headers(token)
            else:
                patient = int(rng.integers(0, self.o.hubs))
                token = self.fleet.clinician_tokens[self.fleet.team_of[patient]]
                route = DAYS_ROUTE
                path = f"/v1/patients/{self.fleet.patient_ids[patient]}/days"
                headers = f"Authorization: Bearer {token}\r\nAccept: application/json\r\n".encode()
            self._spawn(self._get(into[route], path, headers, due, page=route == TEAM_ROUTE))
            k += 1

    async def _warm_pages(self) -> None:
        """Every team's page once from every process that serves pages, a few at a time (best
        effort: a failed read only leaves that cache cold, the baseline counts what follows)."""
        headers = [_page_headers(t) for t in self.fleet.clinician_tokens]

        async def read(pool: Pool, h: bytes) -> None:
            with contextlib.suppress(HttpError):
                await pool.request("GET", "/team", h)

        for pool in self.pages:
            for first in range(0, len(headers), _WARM_AT_ONCE):
                await asyncio.gather(
                    *(read(pool, h) for h in headers[first : first + _WARM_AT_ONCE])
                )

    async def _get(
        self, into: Latencies, path: str, headers: bytes, due: float, *, page: bool = False
    ) -> None:
        pools, turn = (self.pages, self.next_page) if page else (self.dash, self.next_dash)
        try:
            status, _ = await pools[next(turn) % len(pools)].request("GET", path, headers)
        except HttpError as exc:
            into.errors[str(exc)] += 1
            return
        if status != 200:
            into.errors[str(status)] += 1
            return
        into.ms.append((time.time() - due) * 1000)

    # ---------------------------------------------------------------- staleness and CPU

    async def _poll(self, conn: psycopg.AsyncConnection[Any], since: float) -> float:
        """Read summaries stored since ``since``; match them to batches; the newest time seen."""
        cur = await conn.execute(
            "SELECT patient_id, day, wear_minutes, steps, extract(epoch FROM computed_at)::float8"
            " FROM daily_summaries WHERE computed_at > to_timestamp(%s)",
            (since,),
        )
        newest = since
        for patient_id, day, wear, steps, computed_at in await cur.fetchall():
            newest = max(newest, computed_at)
            hub = self.index.get(patient_id)
            track = self.state.days.get((hub, day)) if hub is not None else None
            if track is None:
                continue
            while (
                track.seen < len(track.accepted_at)
                and wear >= track.need_wear[track.seen]
                and steps >= track.need_steps[track.seen]
            ):
                # computed_at is the storing transaction's start; it may precede the client's
                # receipt of the upload's response by a few milliseconds.
                self.state.staleness_s.append(max(0.0, computed_at - track.accepted_at[track.seen]))
                track.seen += 1
        if not self.state.unseen():
            self.all_seen.set()
        return newest

    async def _backend_pids(self, conn: psycopg.AsyncConnection[Any]) -> list[int]:
        cur = await conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in await cur.fetchall()]

    async def _poller(
        self, conn: psycopg.AsyncConnection[Any], meter: CpuMeter, stop: asyncio.Event
    ) -> None:
        since = time.time() - _POLL_OVERLAP_S
        while not stop.is_set():
            newest = await self._poll(conn, since)
            since = max(since, newest - _POLL_OVERLAP_S)
            meter.see_backends(await self._backend_pids(conn))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _POLL_S)

    def _progress(self, label: str) -> None:
        st = self.state
        errors = sum(st.upload.errors.values()) + sum(
            sum(r.errors.values()) for r in st.dashboard.values()
        )
        dash = [v for r in st.dashboard.values() for v in r.ms[-5000:]]
        p99 = f"{np.percentile(dash, 99):.1f} ms" if dash else "–"
        self.console.print(
            f"{label}: {st.batches_accepted:,} of {st.batches_sent:,} uploads accepted, "
            f"{errors} errors, {len(st.staleness_s):,} batches seen summarised, "
            f"{st.unseen():,} waiting (oldest {st.oldest_unseen_s(time.time()):.0f} s), "
            f"dashboard p99 {p99} (recent)",
            highlight=False,
        )

    async def _reporter(self, stop: asyncio.Event, label: str) -> None:
        started = time.time()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _PROGRESS_S)
            if not stop.is_set():
                self._progress(f"{label} {time.time() - started:4.0f} s")

    async def _settle(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Wait for the workers' first sweep: a summary of today for every patient, none queued.

        Otherwise the idle baseline would be measured while the workers summarise every new
        patient's first day.
        """
        started = time.time()
        reported = started
        while time.time() - started < _SETTLE_TIMEOUT_S:
            cur = await conn.execute(
                "SELECT (SELECT count(*) FROM daily_summaries"
                "   WHERE day = (now() AT TIME ZONE 'UTC')::date),"  # the patients' zone
                " (SELECT count(*) FROM dirty_days WHERE failed_at IS NULL)"
            )
            row = await cur.fetchone()
            assert row is not None
            summarised, queued = int(row[0]), int(row[1])
            if summarised >= self.o.hubs and not queued:
                self.console.print(
                    f"the workers' first sweep is done ({time.time() - started:.0f} s)"
                )
                return
            if time.time() - reported >= _PROGRESS_S:
                reported = time.time()
                self.console.print(
                    f"waiting for the workers' first sweep: {summarised:,} of {self.o.hubs:,} "
                    f"patients summarised, {queued:,} days queued"
                )
            await asyncio.sleep(_POLL_S)
        self.console.print(
            f"the workers' first sweep is not done after {_SETTLE_TIMEOUT_S:g} s; going on"
        )

    async def main(self, meter: CpuMeter) -> FleetResult:
        o = self.o
        async with await psycopg.AsyncConnection.connect(self.db_url, autocommit=True) as conn:
            await self._settle(conn)
            # Baseline: the dashboard mix on the idle service (connections warm first, and
            # every team's page read once by every process that serves pages, so that the
            # baseline does not pay for the first read of each team's days).
            idle: dict[str, Latencies] = {}
            warm: dict[str, Latencies] = {}
            now = time.time()
            await self._dashboard(now, now + 1.0, warm)
            await self._drain_tasks()
            await self._warm_pages()
            now = time.time()
            self.console.print(
                f"idle baseline: {o.dashboard_rps:g} dashboard req/s for {o.baseline_s:g} s"
            )
            await self._dashboard(now, now + o.baseline_s, idle)
            await self._drain_tasks()

            self.console.print(
                f"fleet: {o.hubs:,} hubs, one batch each per {o.period_s} s for "
                f"{o.minutes:g} min, with {o.dashboard_rps:g} dashboard req/s; a line every "
                f"{_PROGRESS_S:g} s"
            )
            stop = asyncio.Event()
            start = time.time()
            end = start + o.minutes * 60
            meter.start(await self._backend_pids(conn))
            self.state.dashboard = {}
            poller = asyncio.create_task(self._poller(conn, meter, stop))
            reporter = asyncio.create_task(self._reporter(stop, "fleet"))
            await asyncio.gather(
                self._hubs(start, end), self._dashboard(start, end, self.state.dashboard)
            )
            await self._drain_tasks()
            fleet_s = time.time() - start
            # Opened by the poller on its own connection: the meter's backend list is current.
            meter.stop(await self._backend_pids(conn))
            cpu = meter.figures(fleet_s)
            loaded = self.state.dashboard
            self.console.print(
                f"uploads done; waiting up to {o.drain_s:g} s for the last batches' summaries"
            )
            drain_start = time.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.all_seen.wait(), o.drain_s)
            drained_s = time.time() - drain_start
            stop.set()
            await asyncio.gather(poller, reporter)
            # A last look, for the summaries stored since the poller's last round.
            await self._poll(conn, start - _POLL_OVERLAP_S)
        for pool in {*self.uploads, *self.dash, *self.pages}:
            pool.close()
        st = self.state
        gen = cpu[-1].seconds or 0.0
        dashboard_sent = sum(len(r.ms) + sum(r.errors.values()) for r in loaded.values())
        return FleetResult(
            options=o,
            provision_s=self.fleet.seconds,
            fleet_s=fleet_s,
            batches_planned=st.batches_planned,
            batches_sent=st.batches_sent,
            batches_accepted=st.batches_accepted,
            samples_produced_per_s=st.samples_produced / fleet_s,
            samples_accepted_per_s=st.samples_accepted / fleet_s,
            upload_errors=dict(st.upload.errors),
            upload_p50_ms=st.upload.pct(50),
            upload_p99_ms=st.upload.pct(99),
            lateness_p99_ms=float(np.percentile(st.lateness_ms, 99)) if st.lateness_ms else 0.0,
            staleness_s=st.staleness_s,
            never_summarised=st.unseen(),
            drained_s=drained_s,
            idle=idle,
            loaded=loaded,
            dashboard_rps=dashboard_sent / fleet_s,
            cpu=cpu,
            generator_cpu_per_request_ms=1000 * gen / max(st.batches_sent + dashboard_sent, 1),
            encode_cpu_per_upload_ms=1000 * st.encode_cpu_s / max(st.batches_sent, 1),
        )

    async def _drain_tasks(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))


def run(
    console: Console, *, server_url: str, settings: Settings, options: FleetOptions
) -> FleetResult:
    """Provision the fleet in a scratch database, serve it, drive it, print the table."""
    # SIGTERM stops the run as Ctrl-C does: subprocesses stopped, scratch database dropped.
    if threading.current_thread() is not threading.main_thread():  # signals: main thread only
        return _run(console, server_url=server_url, settings=settings, options=options)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(console, server_url=server_url, settings=settings, options=options)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(
    console: Console, *, server_url: str, settings: Settings, options: FleetOptions
) -> FleetResult:
    with scratch_database(server_url) as db_url:
        console.print(f"provisioning {options.hubs:,} patients, devices and tokens (COPY)")
        fleet = provision(db_url, hubs=options.hubs, team_size=options.team_size, seed=options.seed)
        console.print(
            f"provisioned in {fleet.seconds:.1f} s ({len(fleet.clinician_tokens)} care team(s) of "
            f"up to {options.team_size})"
        )
        replay = make_replay(options.seed, options.hubs)
        made = NO_PREFILL
        if options.prefill:
            made = prefill(db_url, fleet, replay, seed=options.seed)
            console.print(
                f"prefilled in {made.seconds:.1f} s: today's first {made.minutes:,} minutes "
                f"({made.rollup_rows:,} minute rollups) and {made.summary_rows:,} summaries of "
                f"the last {HISTORY_DAYS} days"
            )
        console.print(
            f"starting {options.serve_processes} rehab serve, {options.page_processes} for the "
            f"pages and {options.workers} rehab worker (these two kinds at nice "
            f"{options.background_nice})"
        )
        with processes(
            db_url,
            options.workers,
            serve_worker=options.serve_worker,
            serve_processes=options.serve_processes,
            page_processes=options.page_processes,
            background_nice=options.background_nice,
        ) as (urls, page_urls, procs):
            bench = _Bench(console, options, fleet, replay, made, urls, db_url, page_urls)
            result = asyncio.run(bench.main(CpuMeter(procs)))
            for p in procs:
                if p.process.poll() is not None:
                    console.print(f"{p.name} exited during the run: {p.log_tail()}")
    console.print(fleet_table(result, settings))
    console.print(
        "Staleness: from an upload's acceptance to the computed_at of the first stored summary "
        "whose wear minutes and steps include the batch (summaries read every "
        f"{_POLL_S:g} s). CPU over the fleet's {result.fleet_s:.0f} s; % of one core.",
        highlight=False,
    )
    console.print(verdict(result), highlight=False)
    return result
