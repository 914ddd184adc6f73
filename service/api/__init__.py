"""The HTTP API (FastAPI), built by :func:`create_app`."""

from service.api.app import create_app

__all__ = ["create_app"]
