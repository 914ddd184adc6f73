"""A real HTTP ingest server for collector tests: uvicorn on 127.0.0.1, a random port, own thread.

It speaks just enough of ``POST /v1/ingest`` (service/ingest/WIRE_FORMAT.md): it stores samples
by natural key (kind, t) and answers ``{"accepted", "duplicates"}``. Tests script its next answers
(``500``, ``503``, ``429``, ``422``, ``401`` or a dropped connection); an empty script means 200.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import uvicorn

DEVICE_TOKEN = "test-device-token"


@dataclass
class ReceivedBatch:
    """One request as the server saw it."""

    batch_id: str
    body: bytes
    samples: list[dict[str, Any]]
    authorization: str
    answer: int | str


@dataclass
class FakeIngest:
    """State of the fake ingest endpoint; reset for every test."""

    url: str = ""
    script: deque[int | str] = field(default_factory=deque)
    received: list[ReceivedBatch] = field(default_factory=list)
    stored: set[tuple[str, str]] = field(default_factory=set)
    retry_after_s: str | None = None

    def reset(self) -> None:
        self.script.clear()
        self.received.clear()
        self.stored.clear()
        self.retry_after_s = None

    def answer_next(self, *answers: int | str) -> None:
        """Queue answers for the next requests: an HTTP status, or ``"drop"``."""
        self.script.extend(answers)

    @property
    def stored_batches(self) -> list[ReceivedBatch]:
        return [r for r in self.received if r.answer == 200]


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _make_app(state: FakeIngest) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = await _read_body(receive)
        headers = dict(scope["headers"])
        doc = orjson.loads(body)
        answer = state.script.popleft() if state.script else 200
        state.received.append(
            ReceivedBatch(
                batch_id=doc["batch_id"],
                body=body,
                samples=doc["samples"],
                authorization=headers.get(b"authorization", b"").decode(),
                answer=answer,
            )
        )
        if answer == "drop":
            # Start a response, then fail: uvicorn closes the connection mid-response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"100")],
                }
            )
            raise ConnectionAbortedError("fake ingest drops the connection")
        payload: dict[str, Any]
        if answer == 200:
            keys = [(s["kind"], s["t"]) for s in doc["samples"]]
            fresh = [k for k in keys if k not in state.stored]
            state.stored.update(fresh)
            payload = {"accepted": len(fresh), "duplicates": len(keys) - len(fresh)}
            content_type = b"application/json"
        elif answer == 422:
            payload = {
                "type": "about:blank",
                "title": "Invalid input",
                "status": 422,
                "detail": "1 sample is invalid",
                "errors": [{"loc": ["samples", 3, "bpm"], "msg": "must be 20 … 250"}],
            }
            content_type = b"application/problem+json"
        else:
            payload = {"title": f"HTTP {answer}", "status": answer}
            content_type = b"application/problem+json"
        out = orjson.dumps(payload)
        response_headers = [(b"content-type", content_type)]
        if state.retry_after_s is not None and answer in (429, 503):
            response_headers.append((b"retry-after", state.retry_after_s.encode()))
        await send({"type": "http.response.start", "status": answer, "headers": response_headers})
        await send({"type": "http.response.body", "body": out})

    return app


@pytest.fixture(scope="session")
def _ingest_server() -> Iterator[FakeIngest]:
    state = FakeIngest()
    config = uvicorn.Config(
        _make_app(state),
        host="127.0.0.1",
        port=0,
        loop="asyncio",
        http="h11",
        ws="none",
        lifespan="off",
        log_level="critical",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-ingest", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake ingest server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    thread.join(timeout=10.0)


@pytest.fixture
def ingest(_ingest_server: FakeIngest) -> FakeIngest:
    """The fake ingest server, with an empty script and no stored samples."""
    _ingest_server.reset()
    return _ingest_server
