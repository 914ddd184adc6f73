"""Options and goals of ``rehab bench fleet``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DAYS_ROUTE",
    "DEFAULT_TEAM_SHARE",
    "DEFAULT_TEAM_SIZE",
    "GOAL_API_P99_MS",
    "GOAL_DASHBOARD_RPS",
    "GOAL_STALENESS_P95_S",
    "TEAM_ROUTE",
    "FleetOptions",
]

# The goal of issue 14, item 3: staleness p95 ≤ 5 min, API p99 ≤ 25 ms at 100 req/s.
GOAL_STALENESS_P95_S = 300.0
GOAL_API_P99_MS = 25.0
GOAL_DASHBOARD_RPS = 100.0
# The dashboard routes: the API's days route (the goal's "API p99") and the care team's page.
DAYS_ROUTE = "/v1/patients/{id}/days"
TEAM_ROUTE = "/team"
# Tunable default: a care team's caseload; the /team page lists every patient of the team.
DEFAULT_TEAM_SIZE = 100
# Tunable default: share of dashboard requests that are the /team page (the rest are /days).
# An open /team page polls every 5 s (service.web._layout.POLL_S), so 10 req/s are 50 open team
# pages; the page of 100 patients costs tens of milliseconds of the server's CPU.
DEFAULT_TEAM_SHARE = 0.1


@dataclass(frozen=True)
class FleetOptions:
    hubs: int = 1000
    minutes: float = 5.0
    workers: int = 1
    dashboard_rps: float = GOAL_DASHBOARD_RPS
    seed: int = 0
    drain_s: float = 120.0
    baseline_s: float = 15.0
    period_s: int = 60
    team_size: int = DEFAULT_TEAM_SIZE
    team_share: float = DEFAULT_TEAM_SHARE
    serve_worker: bool = True  # rehab serve's built-in worker (in each rehab serve)
    serve_processes: int = 1  # rehab serve replicas, each on its own port
    # rehab serve replicas for the web pages alone (/team), no built-in worker; 0: the pages
    # share the serve replicas. Tunable default 1, as deploy/compose.yaml routes them: a page
    # of 100 patients holds a process's interpreter for tens of milliseconds, which the API's
    # requests on that process would wait behind (the GIL and one event loop), while the
    # operating system shares the cores between processes preemptively.
    page_processes: int = 1
    # Niceness of the page replicas and the rehab worker processes (tunable default 10; 0: all
    # at the API's priority): the API's uploads and reads come first on a shared machine, the
    # pages and the analysis, which have room in their own goals, use the rest of the cores.
    background_nice: int = 10
    prefill: bool = True  # today's rollups so far and 30 days of summaries (fleet.prefill)
