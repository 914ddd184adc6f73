"""A running ``rehab demo`` on a fresh test database, and a headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

# Launch options the brief prescribes for Debian's Chromium (never a downloaded browser).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The folder the browser tests write their screenshots to (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Tunable default: the demo loads in about 20 s on two cores; allow for a busy machine.
DEMO_START_TIMEOUT_S = 180

_LOGIN = re.compile(r"(clinician|patient) login:\s+(\S+@\S+) / (\S+)")
_SERVING = re.compile(r"serving on (http://\S+)")


@dataclass(frozen=True)
class RunningDemo:
    url: str
    clinician: tuple[str, str]
    patient: tuple[str, str]
    output: list[str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pump(stream: object, lines: list[str], ready: threading.Event) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line.rstrip("\n"))
        if _SERVING.search(line):
            ready.set()
    ready.set()


def _wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy")


def run_demo(db_url: str) -> Iterator[RunningDemo]:
    """Start ``rehab demo`` against ``db_url``; yield once it serves; stop it afterwards."""
    rehab = Path(sys.executable).parent / "rehab"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHAB_")}
    with tempfile.TemporaryDirectory(prefix="rehab-web-", dir="/var/tmp") as data_dir:
        env.update(
            REHAB_DATABASE_URL=db_url,
            REHAB_DATA_DIR=data_dir,
            NO_COLOR="1",
            TERM="dumb",
            COLUMNS="200",
        )
        proc = subprocess.Popen(
            [str(rehab), "demo", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        ready = threading.Event()
        pump = threading.Thread(target=_pump, args=(proc.stdout, lines, ready), daemon=True)
        pump.start()
        try:
            ready.wait(DEMO_START_TIMEOUT_S)
            text = "\n".join(lines)
            serving = _SERVING.search(text)
            assert serving is not None, "rehab demo did not start serving:\n" + text[-3000:]
            logins = {m.group(1): (m.group(2), m.group(3)) for m in _LOGIN.finditer(text)}
            url = serving.group(1)
            _wait_healthy(url, time.monotonic() + 30)
            yield RunningDemo(
                url=url, clinician=logins["clinician"], patient=logins["patient"], output=lines
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            pump.join(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
