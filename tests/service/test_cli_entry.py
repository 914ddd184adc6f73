"""The hub's commands run without loading the service's web and database stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collector.cli.hub import HUB_COMMANDS
from service.cli import entry

REHAB = Path(sys.executable).parent / "rehab"


def test_hub_command_names_agree() -> None:
    assert entry._HUB_COMMANDS == HUB_COMMANDS


def test_collect_does_not_import_the_service() -> None:
    probe = (
        "import sys; sys.argv = ['rehab', 'collect', '--help'];"
        "from service.cli.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in ('fastapi', 'uvicorn', 'psycopg', 'service.api') if m in sys.modules]\n"
        "print('LOADED', loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "LOADED []" in result.stdout, result.stdout


def test_full_help_lists_service_and_hub_commands() -> None:
    result = subprocess.run(
        [str(REHAB), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    for command in ("serve", "demo", "analyze", "collect", "simulate", "bench"):
        assert command in result.stdout
