"""Request body size limit as a plain ASGI middleware.

A body whose declared ``Content-Length`` is over the limit is refused before anything is read. A
body without one (chunked) is read here, up to the limit, and replayed to the app, so a large body
never reaches a handler or the JSON parser. Routes with their own, larger limit (ingest) are listed
in ``exempt_paths`` and check it themselves.

:class:`InputGuardMiddleware` then refuses, for every route at once, text with NUL characters
(PostgreSQL text cannot hold them: 422 naming the field) and bodies in a content type the route
does not read (415).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["FORM_PATHS", "BodyLimitMiddleware", "InputGuardMiddleware", "find_nul"]


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
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_body_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

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


# Routes under /v1 that read a form (the OAuth2 password flow); every other /v1 body is JSON.
FORM_PATHS = frozenset({"/v1/auth/token"})
_JSON_TYPES = re.compile(r"^application/([\w.+-]+\+)?json$")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_NUL_JSON = b"\\u0000"
_NUL_FORM = b"%00"


def _problem(status: int, title: str, detail: str, code: str, **extra: Any) -> bytes:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return orjson.dumps(body | {"code": code} | extra)


async def _send_problem(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _nul_in_pairs(text: str, where: str) -> list[Any] | None:
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        if "\x00" in name or "\x00" in value:
            return [where, name.replace("\x00", "")]
    return None


def _nul_in_json(value: Any, loc: list[Any]) -> list[Any] | None:
    if isinstance(value, str):
        return loc if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [*loc, key.replace("\x00", "")]
            found = _nul_in_json(item, [*loc, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_in_json(item, [*loc, i])
            if found is not None:
                return found
    return None


def find_nul(*, path: str, query: bytes, content_type: str, body: bytes) -> list[Any] | None:
    """The location of the first NUL character in the request's text, or ``None``.

    PostgreSQL text cannot hold NUL; refusing it here, once, keeps it out of every route. The raw
    bytes are scanned first (fast), and parsed only when a NUL may be there, to name the field.
    """
    if "\x00" in path:
        return ["path"]
    if _NUL_FORM in query or b"\x00" in query:
        found = _nul_in_pairs(query.decode("latin-1"), "query")
        if found is not None:
            return found
    if not body:
        return None
    if (not content_type or _JSON_TYPES.match(content_type)) and _NUL_JSON in body:
        try:
            return _nul_in_json(orjson.loads(body), [])
        except orjson.JSONDecodeError:
            return None  # the route answers 422 for malformed JSON
    if content_type == "application/x-www-form-urlencoded" and (
        _NUL_FORM in body or b"\x00" in body
    ):
        return _nul_in_pairs(body.decode("latin-1"), "body")
    if content_type == "multipart/form-data" and b"\x00" in body:
        return ["body"]  # no route takes files, so a NUL byte in a form part is never valid
    return None


class InputGuardMiddleware:
    """Refuse NUL characters anywhere in a request (422) and non-JSON bodies on JSON routes (415).

    Runs inside :class:`BodyLimitMiddleware`; routes it exempts (ingest) are read here up to their
    own limit (``own_limits``), so a body is never read without a bound.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, own_limits: dict[str, int]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.own_limits = own_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        media_type = content_type.partition(";")[0].strip().lower()
        body = b""
        has_body = scope["method"] in ("POST", "PUT", "PATCH")
        if has_body:
            limit = self.own_limits.get(path, self.max_body_bytes)
            declared = headers.get(b"content-length", b"")
            too_large = declared.isdigit() and int(declared) > limit
            read = None if too_large else await self._read(receive, limit)
            if read is None:
                await _send_problem(
                    send,
                    413,
                    _problem(
                        413,
                        "Payload too large",
                        f"the body is over the {limit}-byte limit",
                        "payload_too_large",
                        limit=limit,
                    ),
                )
                return
            body = read
        # A body without a Content-Type is read as the route's type (older hubs send none).
        if body and media_type and path.startswith("/v1/"):
            wanted = "form" if path in FORM_PATHS else "json"
            ok = media_type in _FORM_TYPES if wanted == "form" else _JSON_TYPES.match(media_type)
            if not ok:
                expected = (
                    "application/x-www-form-urlencoded" if wanted == "form" else "application/json"
                )
                detail = f"this route reads {expected}, not {media_type}"
                await _send_problem(
                    send,
                    415,
                    _problem(415, "Unsupported media type", detail, "unsupported_media_type"),
                )
                return
        loc = find_nul(path=path, query=scope["query_string"], content_type=media_type, body=body)
        if loc is not None:
            where = ".".join(map(str, loc)) or "body"
            msg = "text may not contain NUL characters"
            await _send_problem(
                send,
                422,
                _problem(
                    422,
                    "Invalid input",
                    f"{where}: {msg}",
                    "validation_failed",
                    errors=[{"loc": loc, "msg": msg}],
                ),
            )
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
