"""Helpers for the web view tests: log in through the form, read CSRF tokens from pages."""

from __future__ import annotations

import re

import httpx

from tests.fixtures.service import PASSWORD

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The first CSRF token on a page."""
    found = _CSRF.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


async def web_login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the form as a browser does (cookies stay in ``client``)."""
    client.cookies.clear()
    form = await client.get("/login")
    assert form.status_code == 200
    response = await client.post(
        "/login", data={"username": email, "password": password, "csrf": csrf_of(form.text)}
    )
    assert response.status_code == 303, response.text
