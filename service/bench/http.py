"""The benchmarks' HTTP client: keep-alive HTTP/1.1 over asyncio streams, with a bounded pool.

httpx's per-request overhead (its request and response models, headers, pool bookkeeping) would
make the load generator, not the service, the bottleneck on a small machine: ``rehab bench api`` and
``rehab bench fleet`` share the two cores with the service they measure. This client writes a
request and reads one response (Content-Length or chunked), nothing else; it is for benchmarks
only, the hub's uploader and the tests use httpx.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["HttpError", "Pool", "exchange"]

# uvicorn closes a keep-alive connection idle for 5 s (its timeout_keep_alive default); one idle
# for 4 s is not reused.
_KEEP_ALIVE_S = 4.0
# Request timeout, waiting for a connection included: well past any latency of interest, short
# of letting an overloaded service's backlog grow without end (tunable default).
REQUEST_TIMEOUT_S = 60.0


class HttpError(Exception):
    pass


class Pool:
    """Keep-alive HTTP/1.1 connections to one server, at most ``size`` of them (LIFO reuse)."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        # Free connections with the time each was last used, most recent last.
        self._free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._slots = asyncio.Semaphore(size)
        self._head = f"Host: {host}:{port}\r\n".encode()

    def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The most recently used free connection the server has not closed for idleness."""
        now = time.monotonic()
        while self._free:
            reader, writer, used = self._free.pop()
            if now - used < _KEEP_ALIVE_S and not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def request(
        self, method: str, path: str, headers: bytes, body: bytes = b""
    ) -> tuple[int, bytes]:
        data = (
            f"{method} {path} HTTP/1.1\r\n".encode()
            + self._head
            + headers
            + (f"Content-Length: {len(body)}\r\n\r\n".encode() if body else b"\r\n")
            + body
        )
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                return await self._send(data)
        except TimeoutError as exc:
            raise HttpError("timeout") from exc

    async def _send(self, data: bytes) -> tuple[int, bytes]:
        async with self._slots:
            for attempt in (1, 2):
                kept = self._take() if attempt == 1 else None
                try:
                    conn = kept or await self._open()
                except OSError as exc:
                    raise HttpError(type(exc).__name__) from exc
                try:
                    status, payload, keep = await exchange(*conn, data)
                except (OSError, asyncio.IncompleteReadError, EOFError) as exc:
                    conn[1].close()
                    # A kept-alive connection the server closed just then: once more, fresh.
                    if kept is not None:
                        continue
                    raise HttpError(type(exc).__name__) from exc
                except BaseException:
                    conn[1].close()  # timed out or cancelled half-way: the connection is spoilt
                    raise
                if keep:
                    self._free.append((*conn, time.monotonic()))
                else:
                    conn[1].close()
                return status, payload
        raise AssertionError("unreachable")

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        for _, writer, _ in self._free:
            writer.close()
        self._free.clear()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> tuple[int, bytes, bool]:
    """Send ``data`` (one whole request) on an open connection; return the response's status,
    body and whether the server keeps the connection open."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head:
        raise EOFError
    status = int(head[9:12])
    length, chunked, keep = 0, False, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if not chunked:
        return status, await reader.readexactly(length), keep
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, bytes(body), keep
        body += await reader.readexactly(size + 2)
        del body[-2:]
