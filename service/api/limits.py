"""Request body size limit as a plain ASGI middleware.

Bodies are refused from their declared ``Content-Length`` before anything is read, and counted
while streaming for chunked uploads, so a large body never reaches a handler or the JSON parser.
Routes with their own, larger limit (ingest) are listed in ``exempt_paths`` and check it themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLargeError

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """Answer 413 (problem+json) to bodies over ``max_body_bytes``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, exempt_paths: Iterable[str]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.exempt = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                await self._refuse(send)
                return
        seen = 0
        limit = self.max_body_bytes

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised inside the handler's body read: the problem handlers answer 413.
                    raise PayloadTooLargeError(
                        f"the body is over the {limit}-byte limit", limit=limit
                    )
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": "Payload too large",
                "status": 413,
                "detail": f"the body is over the {self.max_body_bytes}-byte limit",
                "code": "payload_too_large",
                "limit": self.max_body_bytes,
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
