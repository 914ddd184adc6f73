"""``rehab simulate``: stream a simulated patient history through the outbox to the service.

The root CLI mounts :data:`app` (``root.add_typer(app)``) or registers :func:`simulate` directly.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from collector.errors import CollectorError
from collector.settings import CollectorSettings
from collector.simulator import stream_history
from collector.upload import UploadProgress, UploadRetryPolicy

__all__ = ["app", "simulate"]

# Tunable default: at most a year of history in one run (≈ 31 M samples at 1 Hz).
_MAX_DAYS = 366
# simulate_day accepts heart-rate intervals of 1 … 60 s.
_MAX_HR_INTERVAL_S = 60

# Tunable default: the command gives up on an unreachable service after 5 minutes of retries;
# whatever was not sent stays in the outbox for the next run or the hub daemon.
_GIVE_UP_AFTER_S = 300.0


def simulate(
    patient_token: Annotated[
        str,
        typer.Option(
            "--patient-token",
            help="Device token the service issued when this patient's hub was paired.",
        ),
    ],
    days: Annotated[
        int, typer.Option(min=1, max=_MAX_DAYS, help="Days of history, ending yesterday.")
    ] = 14,
    stage_week: Annotated[
        float,
        typer.Option(help="Recovery week of yesterday (1 = the week after surgery)."),
    ] = 3.0,
    server: Annotated[
        str | None,
        typer.Option(
            help="Service base URL (default: REHAB_SERVER_URL, else http://127.0.0.1:8000)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated patient and days.")] = 0,
    tz: Annotated[str, typer.Option(help="The patient's IANA time zone.")] = "UTC",
    state_dir: Annotated[
        Path | None,
        typer.Option(
            help="Collector state directory holding the outbox (default: REHAB_COLLECTOR_DIR)."
        ),
    ] = None,
    hr_interval_s: Annotated[
        int, typer.Option(min=1, max=_MAX_HR_INTERVAL_S, help="Seconds between heart-rate samples.")
    ] = 1,
    give_up_after_s: Annotated[
        float, typer.Option(min=1.0, help="Stop retrying an unreachable service after this long.")
    ] = _GIVE_UP_AFTER_S,
) -> None:
    """Simulate a band's history and upload it through the outbox, like a real hub would."""
    overrides: dict[str, object] = {}
    if server is not None:
        overrides["server_url"] = server
    if state_dir is not None:
        overrides["collector_dir"] = state_dir
    try:
        settings = CollectorSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console = Console()
    progress_columns = (
        TextColumn("[bold]uploading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("samples"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*progress_columns, console=console) as bar:
            task = bar.add_task("upload", total=None)

            def on_progress(p: UploadProgress) -> None:
                bar.update(task, completed=p.samples_done, total=p.samples_total)

            result = asyncio.run(
                stream_history(
                    server_url=settings.server_url,
                    device_token=patient_token,
                    outbox_path=settings.outbox_path,
                    days=days,
                    stage_week=stage_week,
                    seed=seed,
                    tz=tz,
                    hr_interval_s=hr_interval_s,
                    progress=on_progress,
                    batch_max_samples=settings.batch_max_samples,
                    batch_max_bytes=settings.batch_max_bytes,
                    capacity_samples=settings.outbox_capacity_samples,
                    retry=UploadRetryPolicy(give_up_after_s=give_up_after_s),
                    timeout_s=settings.http_timeout_s,
                )
            )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except CollectorError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=1) from exc
    up = result.upload
    p = result.profile
    console.print(
        f"patient: age {p.age_years:g} y, resting HR {p.resting_hr_bpm:g} bpm, "
        f"baseline {p.baseline_steps_per_day:,} steps/day"
    )
    console.print(
        f"{result.days} days, {result.samples_appended:,} samples queued; "
        f"{up.batches} batches sent: {up.accepted:,} accepted, {up.duplicates:,} duplicates"
    )
    if up.quarantined_batches:
        console.print(
            f"[yellow]{up.quarantined_batches} batches ({up.quarantined_samples:,} samples) were "
            f"refused and quarantined in {settings.outbox_path}[/yellow]"
        )
    if result.samples_dropped:
        console.print(
            f"[yellow]{result.samples_dropped:,} old samples dropped: outbox full[/yellow]"
        )


app = typer.Typer(help="Simulated band.", no_args_is_help=True)
app.command(name="simulate")(simulate)
