"""A scratch database for benchmarks: created on the configured server, migrated, then dropped."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import psycopg
import uvicorn
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr

from service.api import create_app
from service.db import upgrade
from service.patients import PatientIn, add_device, add_patient
from service.settings import Settings

__all__ = [
    "BenchPatient",
    "bench_patient",
    "scratch_database",
    "serve_in_subprocess",
    "serve_in_thread",
    "summary_copy_columns",
]


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh, migrated database on the server of ``server_url``, dropped afterwards."""
    name = f"rehab_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(server_url)
    params["dbname"] = name
    url = make_conninfo(**params)  # type: ignore[arg-type]
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_in_thread(settings: Settings, db_url: str) -> Iterator[str]:
    """``rehab serve`` for ``db_url`` on a free loopback port in a thread; yields its base URL."""
    port = _free_port()
    app_settings = settings.model_copy(
        update={"database_url": SecretStr(db_url), "run_worker": False}
    )
    config = uvicorn.Config(
        create_app(app_settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="bench-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass(frozen=True)
class BenchPatient:
    patient_id: uuid.UUID
    device_id: uuid.UUID
    device_token: str


async def bench_patient(
    db_url: str, *, tz: str = "UTC", surgery_date: date = date(2026, 4, 1)
) -> BenchPatient:
    """A patient with one paired device in the scratch database."""
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient_id = await add_patient(
            conn,
            PatientIn(
                display_name="Bench patient",
                birth_year=1960,
                tz=tz,
                surgery_type="fusion",
                surgery_date=surgery_date,
            ),
        )
        device_id, token = await add_device(conn, patient_id=patient_id)
    return BenchPatient(patient_id=patient_id, device_id=device_id, device_token=token)


# Tunable default: a cold interpreter importing the service starts in a few seconds.
_START_TIMEOUT_S = 30.0


@contextlib.contextmanager
def serve_in_subprocess(db_url: str) -> Iterator[str]:
    """``rehab serve`` for ``db_url`` in a subprocess on a free loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "REHAB_DATABASE_URL": db_url,
        "REHAB_RUN_WORKER": "false",
        "REHAB_RUN_NOTIFIER": "false",
        "REHAB_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-c", "from service.cli.main import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError("the benchmark server exited during start-up")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def summary_copy_columns(conn: psycopg.Connection[Any]) -> list[str]:
    """The stored (not generated) columns of ``daily_summaries`` besides the key, in table order:
    what a benchmark copies when it gives many patients a template patient's summaries."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'daily_summaries'"
            " AND is_generated = 'NEVER' AND column_name NOT IN ('patient_id', 'day')"
            " ORDER BY ordinal_position"
        ).fetchall()
    ]
