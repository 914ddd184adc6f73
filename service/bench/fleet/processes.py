"""``rehab serve`` and ``rehab worker`` subprocesses, and the CPU each process used."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from service.bench.scratch import _free_port

__all__ = ["CpuFigure", "CpuMeter", "Proc", "processes"]

# Tunable default: a cold interpreter importing the service starts in a few seconds.
_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CpuFigure:
    name: str
    seconds: float | None  # None: not measurable (a process on another machine)
    wall_s: float

    @property
    def percent(self) -> float | None:
        return None if self.seconds is None else 100.0 * self.seconds / self.wall_s


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    ready_line: bytes | None  # the log line that says it started; None: it listens on port
    port: int | None = None

    def log_tail(self) -> str:
        self.log.flush()
        text = Path(self.log.name).read_bytes().decode(errors="replace")
        return " | ".join(text.strip().splitlines()[-3:])


def _spawn(name: str, args: list[str], env: dict[str, str], ready_line: bytes | None) -> Proc:
    log = tempfile.NamedTemporaryFile(prefix="rehab-fleet-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-c", "from service.cli.main import main; main()", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own process group: a Ctrl-C in the terminal reaches this process, which stops the
        # others in order (the database is dropped last).
        start_new_session=True,
    )
    return Proc(name, process, log, ready_line)


@contextlib.contextmanager
def processes(
    db_url: str,
    workers: int,
    *,
    serve_worker: bool = True,
    serve_processes: int = 1,
    page_processes: int = 0,
    background_nice: int = 0,
) -> Iterator[tuple[list[str], list[str], list[Proc]]]:
    """``serve_processes`` ``rehab serve`` replicas on their own ports (each with its built-in
    worker on or off), ``page_processes`` more for the web pages (never with the worker) and
    ``workers`` ``rehab worker``s, these two kinds at niceness ``background_nice``; the URLs
    of the serve replicas and of the page replicas."""
    ports = [_free_port() for _ in range(serve_processes)]
    page_ports = [_free_port() for _ in range(page_processes)]
    env = {
        **os.environ,
        "REHAB_DATABASE_URL": db_url,
        "REHAB_RUN_WORKER": "true" if serve_worker else "false",
        # No notification targets exist in the scratch database.
        "REHAB_RUN_NOTIFIER": "false",
        "REHAB_LOG_LEVEL": "WARNING",
    }
    procs = [
        _spawn(
            "rehab serve" if serve_processes == 1 else f"rehab serve {i + 1}",
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            ready_line=None,
        )
        for i, port in enumerate(ports)
    ]
    procs += [
        _spawn(
            "rehab serve (pages)" if page_processes == 1 else f"rehab serve (pages {i + 1})",
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            {**env, "REHAB_RUN_WORKER": "false"},
            ready_line=None,
        )
        for i, port in enumerate(page_ports)
    ]
    procs += [
        _spawn(f"rehab worker {i + 1}", ["worker"], env, ready_line=b"analysis worker started")
        for i in range(workers)
    ]
    for proc, port in zip(procs, ports + page_ports, strict=False):
        proc.port = port
    for proc in procs[serve_processes:]:
        with contextlib.suppress(psutil.Error):
            psutil.Process(proc.process.pid).nice(background_nice)
    try:
        _wait_started(procs)
        yield (
            [f"http://127.0.0.1:{port}" for port in ports],
            [f"http://127.0.0.1:{port}" for port in page_ports],
            procs,
        )
    finally:
        for p in procs:
            if p.process.poll() is None:
                p.process.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.process.kill()
                p.process.wait()
            p.log.close()


def _wait_started(procs: list[Proc]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    pending = list(procs)
    while pending:
        for p in list(pending):
            if p.process.poll() is not None:
                raise RuntimeError(f"{p.name} exited during start-up: {p.log_tail()}")
            if p.port is not None:
                with contextlib.suppress(OSError), _socket_to(p.port):
                    pending.remove(p)
            elif p.ready_line is not None and p.ready_line in Path(p.log.name).read_bytes():
                pending.remove(p)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending[0].name} did not start in {_START_TIMEOUT_S:g} s")
        time.sleep(0.1)


@contextlib.contextmanager
def _socket_to(port: int) -> Iterator[None]:
    with socket.create_connection(("127.0.0.1", port), timeout=1.0):
        yield


def _is_postgres(pid: int) -> bool:
    try:
        name: str = psutil.Process(pid).name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return name.startswith("postgres")


class CpuMeter:
    """CPU seconds of processes between ``start`` and ``stop``; PostgreSQL backends by pid."""

    def __init__(self, procs: list[Proc]) -> None:
        self.procs = procs
        self.me = psutil.Process()
        self._start: dict[str, float] = {}
        self._end: dict[str, float] = {}
        # Backend pid -> (CPU at first sight or at start, CPU last seen).
        self.backends: dict[int, tuple[float, float]] = {}
        self.backends_visible = True
        self._measuring = False

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return float(t.user + t.system)

    def _sample(self) -> dict[str, float]:
        out = {p.name: self._cpu(p.process.pid) or 0.0 for p in self.procs}
        out["load generator"] = self._cpu(self.me.pid) or 0.0
        return out

    def see_backends(self, pids: list[int], *, first: bool = False) -> None:
        """Record the backends' CPU; those first seen after ``start`` count from zero."""
        if not (self._measuring or first):
            return
        for pid in pids:
            # A pid of a server on another machine may name an unrelated process here.
            cpu = self._cpu(pid) if _is_postgres(pid) else None
            if cpu is None:
                if first:
                    self.backends_visible = False
                continue
            if pid in self.backends:
                self.backends[pid] = (self.backends[pid][0], cpu)
            else:
                self.backends[pid] = (cpu if first else 0.0, cpu)

    def start(self, backend_pids: list[int]) -> None:
        self._start = self._sample()
        self._measuring = True
        self.see_backends(backend_pids, first=True)

    def stop(self, backend_pids: list[int]) -> None:
        self.see_backends(backend_pids)
        self._end = self._sample()
        self._measuring = False

    def figures(self, wall_s: float) -> list[CpuFigure]:
        out = [
            CpuFigure(p.name, self._end[p.name] - self._start[p.name], wall_s) for p in self.procs
        ]
        pg = sum(last - first for first, last in self.backends.values())
        out.append(
            CpuFigure(
                f"PostgreSQL backends of the scratch database ({len(self.backends)})",
                pg if self.backends_visible and self.backends else None,
                wall_s,
            )
        )
        gen = "load generator"
        out.append(CpuFigure(f"{gen} (this process)", self._end[gen] - self._start[gen], wall_s))
        return out
