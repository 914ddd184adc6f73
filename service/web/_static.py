"""The stylesheet and script, served from the installed package (no CDN, works offline)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from starlette.responses import Response

from service.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_TYPES = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
# Tunable default: browsers may reuse the assets for five minutes.
_MAX_AGE_S = 300


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """A front-end asset of the package."""
    media_type = _TYPES.get(name)
    if media_type is None:
        raise NotFoundError(f"no asset {name}")
    body = resources.files("service.web").joinpath("static", name).read_bytes()
    return Response(
        body,
        media_type=media_type,
        headers={"Cache-Control": f"max-age={_MAX_AGE_S}", "X-Content-Type-Options": "nosniff"},
    )
