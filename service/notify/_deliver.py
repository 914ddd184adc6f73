"""Delivering queued notifications: leased claims, one attempt per claim, backoff, a log.

A claim leases due rows (moves ``due_at`` past the lease) so that concurrent deliverers never send
the same row at once, then sends outside any transaction; the outcome and the attempt are recorded
afterwards. A failed attempt is retried after an exponential backoff until the attempt budget is
spent. Messages name the patient id, rule, severity, state and days and link to the alert on
the dashboard (``REHAB_PUBLIC_URL``), never names, measurements or free text: e-mail and
third-party webhooks are not places for health data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.notify._address import WebhookAddressRefused, check_webhook_address
from service.notify._send import AttemptResult, SmtpConfig, send_email, send_webhook
from service.secretbox import SecretBox, seal_stored_secrets, secret_box
from service.settings import Settings

__all__ = ["Notifier", "PeriodicCheck", "RetryPolicy"]

#: A check the delivery loop runs every pass with a connection and the current time (the alerts'
#: overdue reminders, for one); it returns delivery ids to send right away.
PeriodicCheck = Callable[[AsyncConnection[Any], datetime], Awaitable[Sequence[int]]]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Backoff ``base_s · 2^(attempt−1)`` capped at ``max_s``; give up after ``max_attempts``."""

    # Tunable defaults: 30 s, 1, 2, 4, 8 min … capped at 1 h; six attempts span about an hour,
    # long enough to ride out a receiver's restart, short enough that a clinic notices the failure.
    base_s: float = 30.0
    max_s: float = 3600.0
    max_attempts: int = 6
    # Tunable default: a claimed row is retried by another deliverer if not settled in 2 min.
    lease_s: float = 120.0

    def delay_s(self, attempt: int) -> float:
        return float(min(self.max_s, self.base_s * 2.0 ** (attempt - 1)))


@dataclass(frozen=True)
class _Claim:
    id: int
    kind: str
    address: str
    secret: str | None
    digest: bool
    alert_ids: list[int]
    attempts: int
    reminder: bool


class Notifier:
    """Delivers queued notifications: inline for urgent alerts, and from a periodic loop."""

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection[Any]],
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | None = None,
        checks: Sequence[PeriodicCheck] = (),
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._secret_box: SecretBox | None = None  # built on first use: it may create a key file
        self._retry = retry or RetryPolicy()
        self._http = http
        self._smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        )
        self._checks = tuple(checks)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    async def deliver_due(self, *, ids: Sequence[int] | None = None) -> int:
        """Attempt every due pending delivery (or only ``ids``); return how many were sent."""
        async with self._pool.connection() as conn:
            claims = await self._claim(conn, ids)
            sent = 0
            for claim in claims:
                result = await self._attempt(conn, claim)
                await self._settle(conn, claim, result)
                sent += result.ok
        return sent

    async def run_checks(self, *, now: datetime | None = None) -> list[int]:
        """Run the periodic checks once at ``now`` (default: the clock); return queued ids."""
        ids: list[int] = []
        async with self._pool.connection() as conn:
            for check in self._checks:
                ids += await check(conn, now or datetime.now(UTC))
        return ids

    async def report_unsendable(self) -> int:
        """Log one line when active e-mail targets exist but SMTP is not configured; their count."""
        if self._settings.smtp_host is not None:
            return 0
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM notification_targets WHERE kind = 'email' AND active"
            )
            row = await cur.fetchone()
        unsendable = int(row[0]) if row else 0
        if unsendable:
            log.warning(
                "%d active e-mail notification target(s) cannot be sent: REHAB_SMTP_HOST is not set",
                unsendable,
            )
        return unsendable

    async def notify_soon(self, ids: Sequence[int]) -> None:
        """Deliver ``ids`` now, waiting at most ``notify_inline_timeout_s`` (the rest continues)."""
        if not ids:
            return
        task = asyncio.create_task(self.deliver_due(ids=ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.wait({task}, timeout=self._settings.notify_inline_timeout_s)

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="notifier")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._settings.notify_send_timeout_s)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _box(self) -> SecretBox:
        if self._secret_box is None:
            self._secret_box = secret_box(self._settings)
        return self._secret_box

    def _client(self) -> httpx.AsyncClient:
        # Created on first use, inside the running loop; redirects are not followed so that a
        # webhook cannot bounce a signed body elsewhere.
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    async def _run(self) -> None:
        try:
            async with self._pool.connection() as conn:
                await seal_stored_secrets(conn, self._box)
        except Exception:
            # Unsealed secrets still work (SecretBox.open); the next start tries again.
            log.exception("encrypting stored webhook secrets failed")
        try:
            await self.report_unsendable()
        except Exception:
            log.exception("checking the e-mail notification targets failed")
        while True:
            try:
                await self.run_checks()
            except Exception:
                # As below: the next pass tries again.
                log.exception("periodic alert checks failed")
            try:
                await self.deliver_due()
            except Exception:
                # The loop must outlive a database hiccup; the rows stay queued.
                log.exception("notification delivery pass failed")
            await asyncio.sleep(self._settings.notify_poll_s)

    async def _claim(self, conn: AsyncConnection[Any], ids: Sequence[int] | None) -> list[_Claim]:
        cur = await conn.execute(
            "UPDATE notification_deliveries d SET due_at = now() + make_interval(secs => %(lease)s),"
            " attempts = d.attempts + 1, last_attempt_at = now()"
            " FROM notification_targets t"
            " WHERE d.id IN (SELECT id FROM notification_deliveries WHERE status = 'pending'"
            "   AND due_at <= now() AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s))"
            "   ORDER BY due_at FOR UPDATE SKIP LOCKED)"
            " AND t.id = d.target_id"
            " RETURNING d.id, t.kind, t.address, t.secret, d.digest, d.alert_ids, d.attempts,"
            " d.reminder",
            {"lease": self._retry.lease_s, "ids": list(ids) if ids is not None else None},
        )
        return [_Claim(*row) for row in await cur.fetchall()]

    async def _payload(self, conn: AsyncConnection[Any], claim: _Claim) -> dict[str, Any]:
        cur = await conn.execute(
            "SELECT id, patient_id::text, rule, severity, state, first_day::text, last_day::text,"
            " reminded_at IS NOT NULL AND state IN ('open', 'cleared')"
            " FROM alerts WHERE id = ANY(%s) ORDER BY id",
            (claim.alert_ids,),
        )
        keys = (
            "alert_id",
            "patient_id",
            "rule",
            "severity",
            "state",
            "first_day",
            "last_day",
            "overdue",
        )
        alerts = [dict(zip(keys, row, strict=True)) for row in await cur.fetchall()]
        base = self._settings.public_url.rstrip("/")
        for alert in alerts:
            # The patient page's alerts section: acknowledge or resolve from there.
            alert["url"] = f"{base}/patients/{alert['patient_id']}#alerts"
        kind = "digest" if claim.digest else "reminder" if claim.reminder else "alert"
        return {
            "type": kind,
            "delivery_id": claim.id,
            "alerts": alerts,
        }

    async def _attempt(self, conn: AsyncConnection[Any], claim: _Claim) -> AttemptResult:
        payload = await self._payload(conn, claim)
        timeout_s = self._settings.notify_send_timeout_s
        if claim.kind == "webhook":
            assert claim.secret is not None
            try:
                # Again at delivery: the name may resolve elsewhere than when it was added.
                await check_webhook_address(
                    claim.address, allow_private=self._settings.webhook_allow_private_addresses
                )
            except WebhookAddressRefused as exc:
                return AttemptResult(ok=False, error=f"address refused: {exc.reason}")
            return await send_webhook(
                self._client(),
                url=claim.address,
                secret=self._box().open(claim.secret),
                body=orjson.dumps(payload),
                delivery_id=claim.id,
                timestamp_s=int(time.time()),
                timeout_s=timeout_s,
            )
        return await send_email(
            self._smtp,
            to=claim.address,
            subject=_subject(payload),
            text=_email_text(payload),
            timeout_s=timeout_s,
        )

    async def _settle(
        self, conn: AsyncConnection[Any], claim: _Claim, result: AttemptResult
    ) -> None:
        if result.ok:
            status, due_s = "sent", 0.0
        elif claim.attempts >= self._retry.max_attempts:
            status, due_s = "failed", 0.0
        else:
            status, due_s = "pending", self._retry.delay_s(claim.attempts)
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO notification_attempts (delivery_id, attempt, ok, status_code, error)"
                " VALUES (%s, %s, %s, %s, %s)",
                (claim.id, claim.attempts, result.ok, result.status_code, result.error),
            )
            await conn.execute(
                "UPDATE notification_deliveries SET status = %s, last_error = %s,"
                " due_at = now() + make_interval(secs => %s),"
                " sent_at = CASE WHEN %s THEN now() END WHERE id = %s",
                (status, result.error, due_s, result.ok, claim.id),
            )
        if not result.ok:
            log.warning(
                "notification %s attempt %s failed (%s)", claim.id, claim.attempts, result.error
            )


def _subject(payload: dict[str, Any]) -> str:
    alerts = payload["alerts"]
    if payload["type"] == "digest":
        return f"Rehab Monitor: {len(alerts)} new alert(s)"
    first = alerts[0] if alerts else {"severity": "?", "rule": "?"}
    if payload["type"] == "reminder":
        return f"Rehab Monitor: {first['severity']} alert {first['rule']} not acknowledged yet"
    return f"Rehab Monitor: {first['severity']} alert {first['rule']}"


def _email_text(payload: dict[str, Any]) -> str:
    head = (
        "Not acknowledged in time: please review this alert of your care team."
        if payload["type"] == "reminder"
        else "New alerts for patients of your care team:"
    )
    lines = [head, ""]
    for a in payload["alerts"]:
        lines += [
            f"- alert {a['alert_id']}: {a['severity']} {a['rule']} for patient {a['patient_id']}"
            f" ({a['first_day']} to {a['last_day']}, {a['state']}{', overdue' if a['overdue'] else ''})",
            f"  {a['url']}",
        ]
    return "\n".join(lines) + "\n"
