"""The ``rehab`` console entry point.

The home hub's commands (``rehab collect …``, ``rehab simulate``) run from a command tree that
loads the collector only (``collector.cli.hub``): a Raspberry Pi hub should not carry the
service's web and database stack in memory. Everything else runs the full command tree.
"""

from __future__ import annotations

import sys

# Kept in step with collector.cli.hub.HUB_COMMANDS (a test checks); not imported from there so
# that choosing the tree loads nothing.
_HUB_COMMANDS = frozenset({"collect", "simulate"})


def main() -> None:
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in _HUB_COMMANDS:
        from collector.cli.hub import app  # noqa: PLC0415 - the point is to load only this

        app(prog_name="rehab")
        return
    from service.cli.main import main as service_main  # noqa: PLC0415

    service_main()
