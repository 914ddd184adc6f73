"""``rehab serve`` as a subprocess on a loopback port, for end-to-end tests of the collector.

The service runs exactly as deployed (the ``rehab`` console script, configuration from
``REHAB_*`` variables) against a test database; the tests stop it gracefully or kill it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.fixtures.service import TEST_SECRET_KEY

__all__ = ["REHAB", "ServiceProcess", "free_port", "rehab_env", "running_service"]

REHAB = Path(sys.executable).parent / "rehab"
# A cold `rehab serve` imports FastAPI, psycopg and the analysis package and opens its pool in
# about 2 s on a 2-core machine; 60 s leaves room for a loaded CI host (tunable default).
_START_LIMIT_S = 60.0
_POLL_S = 0.05  # health-check polling period while the service starts (tunable default)
_STOP_LIMIT_S = 30.0  # uvicorn's graceful shutdown finishes open requests first (tunable default)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rehab_env(**values: str) -> dict[str, str]:
    """This process's environment without any ``REHAB_*`` variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHAB_")}
    env.update(values)
    return env


class ServiceProcess:
    """One ``rehab serve`` on a fixed port; can be killed and started again on the same port.

    Parameters
    ----------
    db_url
        The database it serves (``REHAB_DATABASE_URL``), already migrated.
    log_path
        Where its stdout and stderr go, appended across restarts.
    port
        TCP port on 127.0.0.1; a free one when not given.
    env
        Further ``REHAB_*`` settings, for instance smaller ingest limits.
    """

    def __init__(
        self,
        *,
        db_url: str,
        log_path: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.extra_env = dict(env or {})
        self.log_path = log_path
        self.port = port if port is not None else free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process exists and has not exited."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start ``rehab serve`` and wait until ``/healthz`` answers 200."""
        if self.running:
            raise RuntimeError("rehab serve is already running")
        env = rehab_env(
            REHAB_DATABASE_URL=self.db_url,
            # The analysis worker is not under test here and would compete for the CPU.
            REHAB_RUN_WORKER="false",
            REHAB_LOG_LEVEL="WARNING",
            # The test key, so that the service never keeps a key file in the user's data dir.
            REHAB_SECRET_KEY=TEST_SECRET_KEY,
            **self.extra_env,
        )
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(REHAB), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + _START_LIMIT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"rehab serve exited with {self._process.returncode}: {self.log()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"rehab serve did not become healthy: {self.log()}")
            time.sleep(_POLL_S)

    def stop(self) -> int:
        """SIGTERM (uvicorn finishes open requests), wait, return the exit code."""
        return self._end(signal.SIGTERM)

    def kill(self) -> int:
        """SIGKILL: the service dies wherever it is, open transactions included."""
        return self._end(signal.SIGKILL)

    def _end(self, signum: signal.Signals) -> int:
        process = self._process
        if process is None:
            raise RuntimeError("rehab serve was never started")
        if process.poll() is None:
            process.send_signal(signum)
        try:
            return process.wait(timeout=_STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=_STOP_LIMIT_S)

    def log(self) -> str:
        """The last part of the service's output, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@contextlib.contextmanager
def running_service(
    *, db_url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[ServiceProcess]:
    """A started :class:`ServiceProcess`, stopped on the way out."""
    service = ServiceProcess(db_url=db_url, log_path=log_path, env=env)
    service.start()
    try:
        yield service
    finally:
        if service.running:
            service.stop()
