"""The home hub's commands: ``rehab collect …`` and ``rehab simulate``."""

from __future__ import annotations

__all__ = ["HUB_COMMANDS"]

HUB_COMMANDS = frozenset({"collect", "simulate"})
"""The ``rehab`` subcommands a hub-only install (``pip install .``) runs: the hub's command tree
(``collector.cli.hub``) serves them without loading the service. Nothing else is imported here, so
that the entry point can read the names before it chooses a tree."""
