"""``rehab bench …``: benchmarks that print figures next to a baseline measured in the same run."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks (figures next to an in-run baseline).", no_args_is_help=True)
