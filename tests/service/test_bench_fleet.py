"""``rehab bench fleet`` for real, tiny: hubs upload through rehab serve, workers summarise."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from rich.console import Console
from typer.testing import CliRunner

import analysis
from service.accounts import resolve_access_token
from service.bench import fleet
from service.bench.fleet.prefill import HISTORY_DAYS, prefill
from service.bench.fleet.replay import replay as make_replay
from service.bench.scratch import scratch_database
from service.cli.context import CliState
from service.cli.main import app
from service.patients import resolve_device_token
from service.worker.recompute import compute_day
from tests.fixtures.service import TEST_SECRET_KEY, make_settings

# Seconds between a hub's uploads in the test (the command's hidden --period-s; 60 by default).
_PERIOD_S = 10
# The worker's today interval in the test: the real default (60 s) would outlast the test.
_TODAY_INTERVAL_S = 2.0


def test_provisioned_tokens_authenticate(pg_server_url: str) -> None:
    with scratch_database(pg_server_url) as db_url:
        made = fleet.provision(db_url, hubs=7, team_size=3, seed=1)
        assert len(made.clinician_tokens) == 3

        async def check() -> None:
            async with await psycopg.AsyncConnection.connect(db_url) as conn:
                for i, token in enumerate(made.device_tokens):
                    device = await resolve_device_token(conn, token)
                    assert device.patient_id == made.patient_ids[i]
                for token in made.clinician_tokens:
                    principal = await resolve_access_token(conn, token)
                    assert principal.role == "clinician"
                    assert len(principal.team_ids) == 1

        asyncio.run(check())


def test_the_prefill_stores_a_realistic_today_and_30_days_of_summaries(pg_server_url: str) -> None:
    hubs, minutes = 6, 180
    midnight_s = int(time.time()) // 86_400 * 86_400
    with scratch_database(pg_server_url) as db_url:
        made = fleet.provision(db_url, hubs=hubs, team_size=3, seed=2)
        replay = make_replay(2, hubs)
        filled = prefill(db_url, made, replay, seed=2, now_s=midnight_s + minutes * 60 + 7)
        today = datetime.fromtimestamp(midnight_s, UTC).date()
        assert filled.day == today
        assert filled.minutes == minutes
        assert filled.rollup_rows == hubs * minutes
        assert filled.summary_rows == hubs * HISTORY_DAYS

        async def check() -> None:
            async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
                # Rollups only: the worker reads no raw sample.
                cur = await conn.execute("SELECT count(*) FROM hr_samples")
                assert await cur.fetchone() == (0,)
                for h, patient_id in enumerate(made.patient_ids):
                    computed = await compute_day(
                        conn, patient_id=patient_id, tz="UTC", day=today, day_complete=False
                    )
                    # Worn from midnight to the prefill's end; the steps the detector expects.
                    assert computed.summary.wear_minutes == minutes
                    assert computed.summary.steps == int(filled.steps[h])
                    cur = await conn.execute(
                        "SELECT min(day), max(day), count(*), bool_and(analysis_version = %s)"
                        " FROM daily_summaries WHERE patient_id = %s",
                        (analysis.ANALYSIS_VERSION, patient_id),
                    )
                    assert await cur.fetchone() == (
                        today - timedelta(days=HISTORY_DAYS),
                        today - timedelta(days=1),
                        HISTORY_DAYS,
                        True,
                    )
                cur = await conn.execute("SELECT DISTINCT monitoring_from FROM patients")
                assert await cur.fetchall() == [(today - timedelta(days=HISTORY_DAYS),)]

        asyncio.run(check())


def test_a_tiny_fleet_is_uploaded_summarised_and_measured(
    pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read by the rehab serve and rehab worker subprocesses.
    monkeypatch.setenv("REHAB_WORKER_TODAY_INTERVAL_S", str(_TODAY_INTERVAL_S))
    monkeypatch.setenv("REHAB_SECRET_KEY", TEST_SECRET_KEY)
    out = io.StringIO()
    options = fleet.FleetOptions(
        hubs=5,
        minutes=0.5,
        workers=1,
        dashboard_rps=20,
        seed=3,
        drain_s=30,
        baseline_s=2,
        period_s=_PERIOD_S,
        team_size=2,
        team_share=0.5,
        serve_processes=2,
        page_processes=1,
    )
    result = fleet.run(
        Console(file=out, width=160),
        server_url=pg_server_url,
        settings=make_settings(pg_server_url, worker_today_interval_s=_TODAY_INTERVAL_S),
        options=options,
    )
    printed = out.getvalue()
    assert result.batches_sent >= options.hubs
    assert result.batches_accepted == result.batches_sent
    assert result.upload_errors == {}
    assert result.dashboard_errors == 0
    assert result.samples_accepted_per_s > 0
    # Every accepted batch was seen in a summary, and timed.
    assert result.never_summarised == 0
    assert len(result.staleness_s) == result.batches_accepted
    assert all(s >= 0 for s in result.staleness_s)
    for route in ("/v1/patients/{id}/days", "/team"):
        assert result.loaded[route].ms
        assert result.idle[route].ms
    names = [c.name for c in result.cpu]
    assert names[:4] == ["rehab serve 1", "rehab serve 2", "rehab serve (pages)", "rehab worker 1"]
    assert any(n.startswith("PostgreSQL backends") for n in names)
    assert names[-1].startswith("load generator")
    for c in result.cpu:
        assert c.seconds is not None
        assert c.seconds >= 0
    # Both rehab serve replicas and the page replica answered requests: each used some CPU.
    assert (result.cpu[0].seconds or 0.0) > 0
    assert (result.cpu[1].seconds or 0.0) > 0
    assert (result.cpu[2].seconds or 0.0) > 0
    assert "staleness p50 / p95 / max s" in printed
    assert "verdict: 5 hubs" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hubs", "0"], "--hubs must be at least 1"),
        (["--minutes", "0"], "--minutes must be more than 0"),
        (["--workers", "-1"], "--workers must be 0 or more"),
        (["--serve-processes", "0"], "--serve-processes must be at least 1"),
        (["--page-processes", "-1"], "--page-processes must be 0 or more"),
        (["--background-nice", "20"], "--background-nice must be between 0 and 19"),
        (["--dashboard-rps", "0"], "--dashboard-rps must be more than 0"),
        (["--drain-s", "-1"], "--drain-s must be 0 or more"),
        (["--period-s", "7"], "--period-s must divide 60"),
        (["--no-serve-worker", "--workers", "0"], "--no-serve-worker needs --workers 1 or more"),
    ],
)
def test_bad_options_are_one_line_errors(pg_server_url: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        app, ["bench", "fleet", *args], obj=CliState(make_settings(pg_server_url))
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
