"""Send outbox batches to ``POST /v1/ingest`` and settle each one by the service's answer."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from collector.errors import UploadError
from collector.outbox import Batch, Outbox
from collector.upload._retry import UploadRetryPolicy, backoff_delay_s
from collector.upload._types import BatchOutcome, ProgressCallback, UploadProgress, UploadTotals

__all__ = ["Uploader"]

_log = logging.getLogger(__name__)

# Answers worth retrying besides 5xx: 408 Request Timeout and 429 Too Many Requests mean "later",
# not "this batch is wrong" (RFC 9110 §15.5.9, RFC 6585 §4).
_TRANSIENT_4XX = frozenset({408, 429})
# 413 Content Too Large (RFC 9110 §15.5.14): the service stored nothing, so the batch is formed
# again, smaller; only a single sample that is still too large is quarantined.
_TOO_LARGE = 413
# Quarantine reasons are kept in full up to this many characters (tunable default).
_MAX_REASON_CHARS = 4000


@dataclass(frozen=True, slots=True)
class _Transient:
    """A failed attempt worth retrying, already translated from httpx."""

    description: str
    retry_after_s: float | None = None


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _problem_reason(response: httpx.Response) -> str:
    """The server's reason for a 4xx: problem+json title, detail and errors, else the raw text."""
    try:
        doc = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text}"[:_MAX_REASON_CHARS]
    if not isinstance(doc, dict):
        return f"HTTP {response.status_code}: {doc!r}"[:_MAX_REASON_CHARS]
    parts = [f"HTTP {response.status_code}"]
    parts.extend(str(doc[key]) for key in ("title", "detail") if doc.get(key))
    errors = doc.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                loc = ".".join(str(x) for x in item.get("loc", ()))
                parts.append(f"{loc}: {item.get('msg', '')}")
    return "; ".join(parts)[:_MAX_REASON_CHARS]


class Uploader:
    """Moves batches from the outbox to the service, deleting only what the service acknowledged.

    ``200`` acks the batch; network errors, ``408``, ``429`` and ``5xx`` are retried with
    exponential backoff and jitter (forever unless ``retry.give_up_after_s`` is set); ``401``
    stops with :class:`~collector.errors.UploadError` (the hub must be paired again, and the batch
    stays in the outbox); ``413`` halves the batch limits and forms the rows again; any other
    ``4xx`` quarantines the batch with the server's reason.

    Parameters
    ----------
    outbox
        The durable outbox; its blocking calls run in a worker thread.
    client
        The HTTP client; the caller owns it (timeouts, TLS, transport).
    server_url
        Base URL of the service; batches go to ``<server_url>/v1/ingest``.
    device_token
        Bearer token from pairing.
    max_samples, max_bytes, max_age_s
        Batch limits: at most ``max_samples`` samples and ``max_bytes`` of body; :meth:`run`
        sends a partial batch once its oldest sample is ``max_age_s`` seconds old.
    sleep, rng, monotonic
        Injected for tests: the backoff sleep, the jitter source and the give-up clock.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        client: httpx.AsyncClient,
        server_url: str,
        device_token: str,
        max_samples: int,
        max_bytes: int,
        max_age_s: float,
        retry: UploadRetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._outbox = outbox
        self._client = client
        self._url = server_url.rstrip("/") + "/v1/ingest"
        self._headers = {
            "Authorization": f"Bearer {device_token}",
            "Content-Type": "application/json",
        }
        self._max_samples = max_samples
        self._max_bytes = max_bytes
        # Smallest byte limit a 413 can shrink batches to: room for one large heart-rate sample.
        self._min_bytes = min(max_bytes, 1024)
        self._max_age_s = max_age_s
        self._retry = retry if retry is not None else UploadRetryPolicy()
        self._sleep = sleep
        # Jitter only spreads retries out; it needs no cryptographic randomness.
        self._rng = rng if rng is not None else random.Random()  # noqa: S311
        self._monotonic = monotonic
        self.retries = 0

    async def _attempt(self, batch: Batch) -> httpx.Response | _Transient:
        """POST one batch; httpx errors are translated here and nowhere else."""
        try:
            return await self._client.post(self._url, content=batch.body, headers=self._headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise UploadError(
                f"cannot post to {self._url}: {exc}", url=self._url, batch_id=batch.batch_id
            ) from exc
        except httpx.TransportError as exc:
            return _Transient(f"{type(exc).__name__}: {exc}")

    async def send(self, batch: Batch) -> BatchOutcome:
        """Send one batch until the service settles it, then ack or quarantine it."""
        started_s = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(batch)
            if isinstance(outcome, httpx.Response):
                status = outcome.status_code
                if 200 <= status < 300:
                    return await self._acked(batch, outcome, attempt)
                if status == 401:
                    raise UploadError(
                        "the service refused this hub's device token (HTTP 401): pair the hub "
                        "again; the samples stay in the outbox",
                        status_code=status,
                        batch_id=batch.batch_id,
                    )
                if status == _TOO_LARGE and batch.n_samples > 1:
                    return await self._too_large(batch, outcome, attempt)
                if status >= 500 or status in _TRANSIENT_4XX:
                    outcome = _Transient(f"HTTP {status}", _retry_after_s(outcome))
                elif 400 <= status < 500:
                    return await self._quarantined(batch, outcome, attempt)
                else:
                    raise UploadError(
                        f"unexpected HTTP {status} from {self._url}; check the server URL",
                        status_code=status,
                        batch_id=batch.batch_id,
                    )
            waited_s = self._monotonic() - started_s
            limit_s = self._retry.give_up_after_s
            if limit_s is not None and waited_s >= limit_s:
                raise UploadError(
                    f"gave up on batch {batch.batch_id} after {attempt} attempts in "
                    f"{waited_s:.0f} s ({outcome.description}); it stays in the outbox",
                    batch_id=batch.batch_id,
                    attempts=attempt,
                )
            delay_s = backoff_delay_s(
                attempt, policy=self._retry, rng=self._rng, retry_after_s=outcome.retry_after_s
            )
            _log.warning(
                "batch %s attempt %d failed (%s); retrying in %.1f s",
                batch.batch_id,
                attempt,
                outcome.description,
                delay_s,
            )
            self.retries += 1
            await self._sleep(delay_s)

    async def _acked(self, batch: Batch, response: httpx.Response, attempts: int) -> BatchOutcome:
        try:
            doc: Any = orjson.loads(response.content)
            accepted, duplicates = int(doc["accepted"]), int(doc["duplicates"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            _log.warning("batch %s: 2xx without accepted/duplicates counts", batch.batch_id)
            accepted, duplicates = batch.n_samples, 0
        await asyncio.to_thread(self._outbox.ack, batch)
        return BatchOutcome(
            batch_id=batch.batch_id,
            n_samples=batch.n_samples,
            result="acked",
            accepted=accepted,
            duplicates=duplicates,
            attempts=attempts,
            status_code=response.status_code,
        )

    async def _too_large(
        self, batch: Batch, response: httpx.Response, attempts: int
    ) -> BatchOutcome:
        self._max_samples = max(1, batch.n_samples // 2)
        self._max_bytes = max(self._min_bytes, len(batch.body) // 2)
        await asyncio.to_thread(self._outbox.release, batch)
        _log.warning(
            "batch %s (%d samples, %d bytes) too large for the service; now sending at most "
            "%d samples / %d bytes",
            batch.batch_id,
            batch.n_samples,
            len(batch.body),
            self._max_samples,
            self._max_bytes,
        )
        return BatchOutcome(
            batch_id=batch.batch_id,
            n_samples=0,
            result="released",
            accepted=0,
            duplicates=0,
            attempts=attempts,
            status_code=response.status_code,
            reason=_problem_reason(response),
        )

    async def _quarantined(
        self, batch: Batch, response: httpx.Response, attempts: int
    ) -> BatchOutcome:
        reason = _problem_reason(response)
        await asyncio.to_thread(
            self._outbox.quarantine, batch, status_code=response.status_code, reason=reason
        )
        return BatchOutcome(
            batch_id=batch.batch_id,
            n_samples=batch.n_samples,
            result="quarantined",
            accepted=0,
            duplicates=0,
            attempts=attempts,
            status_code=response.status_code,
            reason=reason,
        )

    async def _next(self, *, flush: bool) -> Batch | None:
        return await asyncio.to_thread(
            self._outbox.next_batch,
            max_samples=self._max_samples,
            max_bytes=self._max_bytes,
            min_samples=1 if flush else self._max_samples,
            max_age_s=None if flush else self._max_age_s,
        )

    async def drain(self, *, progress: ProgressCallback | None = None) -> UploadTotals:
        """Send every waiting sample, whole or partial batches, until the outbox is empty."""
        total = (await asyncio.to_thread(self._outbox.status)).depth_samples
        retries_before = self.retries
        done = accepted = duplicates = q_batches = q_samples = batches = 0
        while (batch := await self._next(flush=True)) is not None:
            outcome = await self.send(batch)
            if outcome.result == "released":
                continue
            batches += 1
            done += outcome.n_samples
            accepted += outcome.accepted
            duplicates += outcome.duplicates
            if outcome.result == "quarantined":
                q_batches += 1
                q_samples += outcome.n_samples
            if progress is not None:
                progress(
                    UploadProgress(
                        samples_done=done,
                        samples_total=max(total, done),
                        accepted=accepted,
                        duplicates=duplicates,
                        quarantined_samples=q_samples,
                    )
                )
        return UploadTotals(
            batches=batches,
            samples_sent=done,
            accepted=accepted,
            duplicates=duplicates,
            quarantined_batches=q_batches,
            quarantined_samples=q_samples,
            retries=self.retries - retries_before,
        )

    async def run(
        self,
        stop: asyncio.Event,
        *,
        poll_s: float,
        on_outcome: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        """Upload as batches fill up or age, until ``stop`` is set; the hub daemon's loop.

        ``poll_s`` is how often, in seconds, an idle loop looks at the outbox again;
        ``on_outcome`` hears about every settled batch.
        """
        while not stop.is_set():
            batch = await self._next(flush=False)
            if batch is not None:
                outcome = await self.send(batch)
                if on_outcome is not None:
                    on_outcome(outcome)
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_s)
            except TimeoutError:
                continue
