"""What a fleet run measured, its table and its verdict."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from rich.table import Table

from service.bench.fleet.options import (
    DAYS_ROUTE,
    GOAL_API_P99_MS,
    GOAL_DASHBOARD_RPS,
    GOAL_STALENESS_P95_S,
    FleetOptions,
)
from service.bench.fleet.processes import CpuFigure
from service.settings import Settings

__all__ = ["DayTrack", "FleetResult", "Latencies", "State", "fleet_table", "verdict"]

# The fleet of the goal (issue 14): the generator's CPU is projected to it from the measured run.
_PROJECTED_HUBS = 10_000


@dataclass
class DayTrack:
    """The accepted batches of one patient-day, in order, and how many a summary has shown."""

    first_minute: int  # minute of the day of the first batch seen
    lead: int = 0  # worn minutes of the day before first_minute
    need_wear: list[int] = field(default_factory=list)
    need_steps: list[int] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)
    steps: int = 0
    seen: int = 0


@dataclass
class Latencies:
    ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def pct(self, q: float) -> float:
        return float(np.percentile(self.ms, q)) if self.ms else math.nan


@dataclass
class State:
    start: float = 0.0
    batches_planned: int = 0
    batches_sent: int = 0
    batches_accepted: int = 0
    samples_produced: int = 0
    samples_accepted: int = 0
    upload: Latencies = field(default_factory=Latencies)
    lateness_ms: list[float] = field(default_factory=list)
    days: dict[tuple[int, date], DayTrack] = field(default_factory=dict)
    staleness_s: list[float] = field(default_factory=list)
    dashboard: dict[str, Latencies] = field(default_factory=dict)
    encode_cpu_s: float = 0.0  # CPU time spent building upload bodies

    def unseen(self) -> int:
        return sum(len(t.accepted_at) - t.seen for t in self.days.values())

    def oldest_unseen_s(self, now: float) -> float:
        ages = [
            now - t.accepted_at[t.seen] for t in self.days.values() if t.seen < len(t.accepted_at)
        ]
        return max(ages, default=0.0)


@dataclass(frozen=True)
class FleetResult:
    options: FleetOptions
    provision_s: float
    fleet_s: float
    batches_planned: int
    batches_sent: int
    batches_accepted: int
    samples_produced_per_s: float
    samples_accepted_per_s: float
    upload_errors: dict[str, int]
    upload_p50_ms: float
    upload_p99_ms: float
    lateness_p99_ms: float
    staleness_s: list[float]
    never_summarised: int
    drained_s: float
    idle: dict[str, Latencies]
    loaded: dict[str, Latencies]
    dashboard_rps: float
    cpu: list[CpuFigure]
    generator_cpu_per_request_ms: float  # all its work over uploads and dashboard requests
    encode_cpu_per_upload_ms: float

    @property
    def dashboard_errors(self) -> int:
        return sum(sum(r.errors.values()) for r in self.loaded.values())

    @property
    def upload_error_count(self) -> int:
        return sum(self.upload_errors.values())

    def staleness_pct(self, q: float) -> float:
        return float(np.percentile(self.staleness_s, q)) if self.staleness_s else math.nan

    def loaded_all(self) -> Latencies:
        return Latencies(ms=[v for r in self.loaded.values() for v in r.ms])

    @property
    def api_p99_ms(self) -> float:
        """p99 of the API route under the fleet (the goal's figure; nan without requests)."""
        days = self.loaded.get(DAYS_ROUTE)
        return days.pct(99) if days else math.nan

    def meets_goal(self) -> bool:
        return (
            self.upload_error_count == 0
            and self.dashboard_errors == 0
            and self.never_summarised == 0
            and bool(self.staleness_s)
            and self.staleness_pct(95) <= GOAL_STALENESS_P95_S
            and self.api_p99_ms <= GOAL_API_P99_MS
            and self.options.dashboard_rps >= GOAL_DASHBOARD_RPS
        )


def _ms(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1f}"


def _errors(counter: dict[str, int]) -> str:
    total = sum(counter.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) + ")"


def fleet_table(r: FleetResult, settings: Settings) -> Table:
    o = r.options
    table = Table(
        title=f"rehab bench fleet: {o.hubs:,} hubs for {o.minutes:g} min, {o.serve_processes} "
        f"rehab serve ({'with' if o.serve_worker else 'without'} the built-in worker) + "
        f"{o.workers} rehab worker process(es), "
        f"{o.page_processes or 'no'} rehab serve for the pages; "
        f"{'prefilled days' if o.prefill else 'empty days'}; worker batches of "
        f"{settings.worker_batch_days} days, today at most every "
        f"{settings.worker_today_interval_s:g} s"
    )
    for column in ("figure", "under the fleet", "idle (same run)", "goal"):
        table.add_column(column, justify="left" if column in ("figure", "goal") else "right")
    table.add_row(
        "uploads accepted / sent",
        f"{r.batches_accepted:,} / {r.batches_sent:,}",
        "",
        "",
    )
    table.add_row("upload errors", _errors(r.upload_errors), "", "none")
    table.add_row(
        "samples/s produced → accepted",
        f"{r.samples_produced_per_s:,.0f} → {r.samples_accepted_per_s:,.0f} "
        f"({r.samples_accepted_per_s / max(r.samples_produced_per_s, 1e-9):.2f})",
        "",
        "keep up (1.00)",
    )
    table.add_row("upload p50 / p99 ms", f"{_ms(r.upload_p50_ms)} / {_ms(r.upload_p99_ms)}", "", "")
    table.add_row("generator: send late p99 ms", _ms(r.lateness_p99_ms), "", "")
    table.add_section()
    table.add_row(
        "staleness p50 / p95 / max s",
        " / ".join(f"{r.staleness_pct(q):.1f}" for q in (50, 95, 100)) if r.staleness_s else "–",
        "",
        f"p95 ≤ {GOAL_STALENESS_P95_S:g} s",
    )
    table.add_row(
        f"batches never seen summarised (after {r.drained_s:.0f} s of drain)",
        f"{r.never_summarised:,} of {r.batches_accepted:,}",
        "",
        "none",
    )
    table.add_section()
    for route, loaded in r.loaded.items():
        idle = r.idle[route]
        table.add_row(
            f"{route} p50 / p99 ms ({len(loaded.ms):,} requests)",
            f"{_ms(loaded.pct(50))} / {_ms(loaded.pct(99))}",
            f"{_ms(idle.pct(50))} / {_ms(idle.pct(99))}",
            f"p99 ≤ {GOAL_API_P99_MS:g} ms (API)" if route == DAYS_ROUTE else "(web page)",
        )
    idle_all = Latencies(ms=[v for x in r.idle.values() for v in x.ms])
    table.add_row(
        "both routes p50 / p99 ms",
        f"{_ms(r.loaded_all().pct(50))} / {_ms(r.loaded_all().pct(99))}",
        f"{_ms(idle_all.pct(50))} / {_ms(idle_all.pct(99))}",
        "",
    )
    table.add_row(
        "dashboard req/s (offered)",
        f"{r.dashboard_rps:,.0f} ({o.dashboard_rps:g})",
        "",
        f"{GOAL_DASHBOARD_RPS:g}",
    )
    errors: Counter[str] = Counter()
    for x in r.loaded.values():
        errors.update(x.errors)
    table.add_row("dashboard errors", _errors(dict(errors)), "", "none")
    table.add_section()
    for c in r.cpu:
        value = (
            "n/a (not on this machine)"
            if c.seconds is None or c.percent is None
            else f"{c.seconds:,.1f} s, {c.percent:.0f}% of a core"
        )
        table.add_row(f"CPU {c.name}", value, "", "")
    table.add_row(
        "load generator CPU per request (all its work), of which a batch's body",
        f"{r.generator_cpu_per_request_ms:.2f} ms, {r.encode_cpu_per_upload_ms:.3f} ms",
        "",
        "",
    )
    projected = r.generator_cpu_per_request_ms * (_PROJECTED_HUBS / 60 + o.dashboard_rps) / 10
    table.add_row(
        f"load generator at {_PROJECTED_HUBS:,} hubs, {o.dashboard_rps:g} req/s (projected)",
        f"{projected:.0f}% of a core",
        "",
        "not the bottleneck",
    )
    return table


def verdict(r: FleetResult) -> str:
    misses = []
    if r.upload_error_count or r.dashboard_errors:
        misses.append(f"{r.upload_error_count + r.dashboard_errors} errors")
    if r.never_summarised:
        misses.append(f"{r.never_summarised} batches never seen summarised")
    if not r.staleness_s or r.staleness_pct(95) > GOAL_STALENESS_P95_S:
        misses.append("staleness p95 over 5 min")
    if not r.api_p99_ms <= GOAL_API_P99_MS:
        misses.append(f"API ({DAYS_ROUTE}) p99 over {GOAL_API_P99_MS:g} ms")
    if r.options.dashboard_rps < GOAL_DASHBOARD_RPS:
        misses.append(f"dashboard offered below {GOAL_DASHBOARD_RPS:g} req/s")
    head = f"verdict: {r.options.hubs:,} hubs"
    if not misses:
        return (
            f"{head} MEET the goal (staleness p95 ≤ 5 min, API p99 ≤ 25 ms at 100 dashboard "
            "req/s, no errors, every batch summarised)"
        )
    return f"{head} MISS the goal: " + "; ".join(misses)
