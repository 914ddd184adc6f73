"""The import rule: ``analysis`` loads numpy and the standard library only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import analysis

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "psycopg", "psycopg_pool", "fastapi", "starlette", "pydantic", "bleak", "httpx", "sqlite3",
    "uvicorn", "orjson", "rich", "typer", "zoneinfo", "collector", "service",
)  # fmt: skip


def test_importing_analysis_loads_no_database_web_or_ble_module() -> None:
    code = (
        "import json, sys; import analysis, analysis.simulate; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = set(json.loads(done.stdout))
    assert "numpy" in loaded
    assert "analysis" in loaded
    assert sorted(loaded & set(FORBIDDEN)) == []


def test_public_surface_is_curated() -> None:
    assert len(set(analysis.__all__)) == len(analysis.__all__)
    assert all(hasattr(analysis, name) for name in analysis.__all__)
    assert not [n for n in analysis.__all__ if n.startswith("_")]
    # The entry points the service integrates.
    assert {"analyse_day", "build_minute_grid", "load_plan", "weekly_progress"} <= set(
        analysis.__all__
    )
    assert {"load_recovery", "recovery_trajectory", "recovery_behind"} <= set(analysis.__all__)
    assert {"choose_sources", "SourceChoice"} <= set(analysis.__all__)
