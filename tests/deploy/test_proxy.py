"""deploy/proxy/Caddyfile in a real Caddy in front of two real ``rehab serve`` apps, and its
agreement with deploy/compose.yaml.

The API (``/v1/…``, ``/healthz``) must reach the API replicas and every other path the page
replicas, with the scheme forwarded, compressed and without the Server header; compose must start
the replicas the proxy names, with the proxy the only service that publishes ports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

from service.api import create_app
from tests.collector.e2e.service_process import free_port
from tests.fixtures.service import make_settings

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "proxy" / "Caddyfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"
# Marks the test's own requests, so that Caddy's active health checks are not counted.
PROBE = "x-rehab-test-probe"


class _Recorder:
    """ASGI middleware: the path and forwarded scheme of each marked request this app served."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if PROBE.encode() in headers:
                self.seen.append((scope["path"], headers.get(b"x-forwarded-proto", b"").decode()))
        await self.app(scope, receive, send)


@contextlib.contextmanager
def _serve(app: Any) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "rehab serve stopped during start-up"
        assert time.monotonic() < deadline, "rehab serve did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.contextmanager
def _caddy(tmp_path: Path, env: dict[str, str], port: int) -> Iterator[str]:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed: apt-get install caddy (the README's test command)")
    process = subprocess.Popen(
        [caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env={
            "PATH": os.environ.get("PATH", ""),
            # Caddy's state (certificates, autosave) stays in the test's directory.
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            # The admin endpoint on a free port: other Caddys on the machine keep theirs.
            "CADDY_ADMIN": f"127.0.0.1:{free_port()}",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0].decode(errors="replace")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "caddy did not start"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_proxy_sends_the_api_and_the_pages_to_their_own_replicas(
    db_url: str, tmp_path: Path
) -> None:
    api = _Recorder(create_app(make_settings(db_url)))
    pages = _Recorder(create_app(make_settings(db_url)))
    proxy_port = free_port()
    with _serve(api) as api_port, _serve(pages) as pages_port:
        env = {
            "REHAB_SITE": f"http://127.0.0.1:{proxy_port}",
            "REHAB_API_UPSTREAMS": f"127.0.0.1:{api_port}",
            "REHAB_PAGE_UPSTREAMS": f"127.0.0.1:{pages_port}",
        }
        with (
            _caddy(tmp_path, env, proxy_port) as url,
            httpx.Client(base_url=url, headers={PROBE: "1"}, follow_redirects=False) as client,
        ):
            assert client.get("/healthz").status_code == 200
            assert client.get("/v1/auth/me").status_code == 401
            assert client.post("/v1/ingest", content=b"{}").status_code == 401
            login = client.get("/login", headers={"Accept-Encoding": "gzip"})
            assert login.status_code == 200
            assert login.headers["content-encoding"] == "gzip"
            assert "Server" not in login.headers
            assert client.get("/team").status_code in (302, 303)
    assert api.seen == [
        ("/healthz", "http"),
        ("/v1/auth/me", "http"),
        ("/v1/ingest", "http"),
    ]
    assert pages.seen == [("/login", "http"), ("/team", "http")]


def test_compose_starts_the_replicas_the_proxy_names() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    proxy = services["proxy"]
    assert "./proxy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    # The replicas the proxy names by default are compose services of the service's image.
    for variable, default in (
        ("REHAB_API_UPSTREAMS", "service:8000"),
        ("REHAB_PAGE_UPSTREAMS", "pages:8000"),
    ):
        assert proxy["environment"][variable] == f"${{{variable}:-{default}}}"
        assert f"{{${variable}:" in CADDYFILE.read_text()
        name = default.split(":")[0]
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    # The page replica leaves the analysis and the notifications to the service.
    assert services["pages"]["environment"]["REHAB_RUN_WORKER"] == "false"
    assert services["pages"]["environment"]["REHAB_RUN_NOTIFIER"] == "false"
    # Pages and analysis yield the cores to the API when they are contended (1024 is the default).
    assert services["pages"]["cpu_shares"] < 1024
    assert services["worker"]["cpu_shares"] < 1024
    assert "cpu_shares" not in services["service"]
    # Only the proxy publishes ports: every other service is reached through it.
    assert [name for name, s in services.items() if "ports" in s] == ["proxy"]
