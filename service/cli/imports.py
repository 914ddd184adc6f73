"""``rehab import FILE… --patient ID``: a patient's watch, tracker and phone exports."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from psycopg import AsyncConnection
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from service.audit import record_event
from service.cli.context import CliState, console, err_console
from service.errors import NotFoundError, ServiceError
from service.imports import ImportResult, file_digest, import_parsed, read_file
from service.patients import get_patient

__all__ = ["import_files"]


def _line(result: ImportResult) -> str:
    parts = [f"{result.file} ({result.format}): {result.accepted} samples stored"]
    if result.duplicates:
        parts.append(f"{result.duplicates} already stored")
    if result.before_surgery:
        parts.append(f"{result.before_surgery} before the pre-operative window left out")
    for reason, count in sorted(result.skipped.items()):
        parts.append(f"{count} × {reason} left out")
    return ", ".join(parts)


def import_files(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="FIT, TCX, GPX, Apple Health export.zip/export.xml, Fitbit export zip or file.",
        ),
    ],
    patient: Annotated[UUID, typer.Option(help="Patient id (from `rehab patient add`).")],
) -> None:
    """Import exported files into a patient's record (each file all or nothing; re-import is harmless)."""
    state: CliState = ctx.obj
    failed = 0

    async def work(conn: AsyncConnection[Any]) -> None:
        nonlocal failed
        record = await get_patient(conn, patient)
        if record is None:
            raise NotFoundError(f"no patient {patient}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            for path in files:
                task = progress.add_task(f"reading {path.name}", total=None)
                try:
                    parsed = read_file(path, zone=record.tz)
                    progress.update(
                        task, description=f"storing {path.name}", total=parsed.n_samples
                    )
                    result = await import_parsed(
                        conn,
                        patient=record,
                        parsed=parsed,
                        digest=file_digest(path),
                        progress=partial(progress.advance, task),
                    )
                except ServiceError as exc:
                    failed += 1
                    progress.console.print(
                        f"[bold red]error:[/] {exc.detail}", soft_wrap=True, highlight=False
                    )
                    continue
                finally:
                    progress.remove_task(task)
                await record_event(
                    conn, actor_kind="cli", actor_id=None, action="import", patient_id=record.id
                )
                console.print(_line(result), highlight=False, soft_wrap=True)

    state.run(work)
    if failed:
        raise typer.Exit(1)
