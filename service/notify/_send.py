"""Sending one message: a signed webhook POST or an e-mail over SMTP.

Webhook signature (verify it before trusting a body)::

    Rehab-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

The timestamp is inside the signed bytes so that a captured request cannot be replayed later
(receivers should reject timestamps older than a few minutes), the same scheme as Stripe's.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

__all__ = [
    "SIGNATURE_HEADER",
    "AttemptResult",
    "SmtpConfig",
    "send_email",
    "send_webhook",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "Rehab-Signature"
# Tunable default: enough of an error message for the delivery log, bounded in size.
_MAX_ERROR_CHARS = 500
DELIVERY_HEADER = "Rehab-Delivery"


@dataclass(frozen=True, kw_only=True)
class AttemptResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    host: str | None
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool


def sign(secret: str, *, timestamp_s: int, body: bytes) -> str:
    """The ``Rehab-Signature`` header value for ``body`` sent at ``timestamp_s``."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return f"t={timestamp_s},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, *, header: str, body: bytes, now_s: int, tolerance_s: int = 300
) -> bool:
    """Check a ``Rehab-Signature`` header (for receivers; tolerance: Stripe's 5-minute default)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    timestamp_s = int(parts["t"])
    if abs(now_s - timestamp_s) > tolerance_s:
        return False
    expected = sign(secret, timestamp_s=timestamp_s, body=body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


async def send_webhook(
    client: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    body: bytes,
    delivery_id: int,
    timestamp_s: int,
    timeout_s: float,
) -> AttemptResult:
    """POST ``body``; any 2xx is success, anything else (or no answer) a failed attempt."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, timestamp_s=timestamp_s, body=body),
        # Receivers de-duplicate on this: a retried delivery keeps its id.
        DELIVERY_HEADER: str(delivery_id),
    }
    try:
        response = await client.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return AttemptResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS])
    if 200 <= response.status_code < 300:
        return AttemptResult(ok=True, status_code=response.status_code)
    return AttemptResult(
        ok=False, status_code=response.status_code, error=f"HTTP {response.status_code}"
    )


def _send_email_blocking(
    smtp: SmtpConfig, *, to: str, subject: str, text: str, timeout_s: float
) -> None:
    assert smtp.host is not None
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username and smtp.password:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


async def send_email(
    smtp: SmtpConfig, *, to: str, subject: str, text: str, timeout_s: float
) -> AttemptResult:
    """Send a plain-text e-mail (smtplib in a worker thread, so the event loop never blocks)."""
    if smtp.host is None:
        return AttemptResult(ok=False, error="SMTP is not configured (REHAB_SMTP_HOST)")
    try:
        await asyncio.to_thread(
            _send_email_blocking, smtp, to=to, subject=subject, text=text, timeout_s=timeout_s
        )
    except (OSError, smtplib.SMTPException) as exc:
        return AttemptResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS])
    return AttemptResult(ok=True)
