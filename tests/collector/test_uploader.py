"""The uploader against a real HTTP server: acks, retries, quarantine, 401, re-sent batch ids."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collector.errors import UploadError
from collector.outbox import Outbox
from collector.upload import (
    BatchOutcome,
    Uploader,
    UploadProgress,
    UploadRetryPolicy,
    backoff_delay_s,
)
from collector.wire import HeartRateSample
from tests.collector.conftest import DEVICE_TOKEN, FakeIngest

T0_S = 1_778_371_200.0  # 2026-05-10T00:00:00Z


class SleepRecorder:
    """Stands in for asyncio.sleep: records the backoff delays and returns at once."""

    def __init__(self) -> None:
        self.delays_s: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)


def _hr(n: int, *, start: int = 0) -> list[HeartRateSample]:
    return [HeartRateSample(t_s=T0_S + i, bpm=70) for i in range(start, start + n)]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "outbox.db") as box:
        yield box


def _uploader(
    outbox: Outbox,
    client: httpx.AsyncClient,
    ingest: FakeIngest,
    sleep: SleepRecorder,
    *,
    max_samples: int = 10,
    retry: UploadRetryPolicy | None = None,
    monotonic: Iterator[float] | None = None,
) -> Uploader:
    clock = iter(monotonic) if monotonic is not None else None
    return Uploader(
        outbox=outbox,
        client=client,
        server_url=ingest.url,
        device_token=DEVICE_TOKEN,
        max_samples=max_samples,
        max_bytes=1 << 20,
        max_age_s=60.0,
        retry=retry,
        sleep=sleep,
        rng=random.Random(3),
        monotonic=(lambda: next(clock)) if clock is not None else (lambda: 0.0),
    )


async def test_drain_sends_everything_and_acks_it(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(25))
    seen: list[UploadProgress] = []
    async with httpx.AsyncClient(timeout=5.0) as client:
        totals = await _uploader(outbox, client, ingest, SleepRecorder()).drain(
            progress=seen.append
        )
    assert (totals.batches, totals.samples_sent, totals.accepted, totals.duplicates) == (
        3,
        25,
        25,
        0,
    )
    assert [r.answer for r in ingest.received] == [200, 200, 200]
    assert len({r.batch_id for r in ingest.received}) == 3
    assert {r.authorization for r in ingest.received} == {f"Bearer {DEVICE_TOKEN}"}
    assert [p.samples_done for p in seen] == [10, 20, 25]
    assert seen[-1].samples_total == 25
    assert outbox.status().depth_samples == 0
    assert outbox.status().acked_samples == 25


async def test_server_errors_are_retried_with_the_same_batch(
    outbox: Outbox, ingest: FakeIngest
) -> None:
    outbox.append(_hr(5))
    ingest.answer_next(500, 500)
    sleep = SleepRecorder()
    async with httpx.AsyncClient(timeout=5.0) as client:
        totals = await _uploader(outbox, client, ingest, sleep).drain()
    assert [r.answer for r in ingest.received] == [500, 500, 200]
    assert len({r.batch_id for r in ingest.received}) == 1
    assert len({r.body for r in ingest.received}) == 1
    assert totals.retries == 2
    assert len(sleep.delays_s) == 2
    assert outbox.status().depth_samples == 0


async def test_dropped_connection_is_retried(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(5))
    ingest.answer_next("drop")
    async with httpx.AsyncClient(timeout=5.0) as client:
        totals = await _uploader(outbox, client, ingest, SleepRecorder()).drain()
    assert [r.answer for r in ingest.received] == ["drop", 200]
    assert ingest.received[0].batch_id == ingest.received[1].batch_id
    assert (totals.accepted, totals.retries) == (5, 1)


async def test_unreachable_server_is_retried(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(3))
    calls = 0

    def refuse_twice(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"accepted": 3, "duplicates": 0})

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse_twice)) as client:
        totals = await _uploader(outbox, client, ingest, SleepRecorder()).drain()
    assert (calls, totals.retries, totals.accepted) == (3, 2, 3)


async def test_invalid_batch_is_quarantined_and_the_next_one_sent(
    outbox: Outbox, ingest: FakeIngest
) -> None:
    outbox.append(_hr(15))
    ingest.answer_next(422)
    async with httpx.AsyncClient(timeout=5.0) as client:
        totals = await _uploader(outbox, client, ingest, SleepRecorder()).drain()
    assert [r.answer for r in ingest.received] == [422, 200]
    assert (totals.quarantined_batches, totals.quarantined_samples, totals.accepted) == (1, 10, 5)
    (kept,) = outbox.quarantined()
    assert kept.batch_id == ingest.received[0].batch_id
    assert kept.status_code == 422
    assert "samples.3.bpm: must be 20 … 250" in kept.reason
    assert "1 sample is invalid" in kept.reason
    assert outbox.status().depth_samples == 0


async def test_too_large_batches_are_split_not_quarantined(
    outbox: Outbox, ingest: FakeIngest
) -> None:
    outbox.append(_hr(10))
    ingest.answer_next(413, 413)
    async with httpx.AsyncClient(timeout=5.0) as client:
        totals = await _uploader(outbox, client, ingest, SleepRecorder()).drain()
    assert [len(r.samples) for r in ingest.received] == [10, 5, 2, 2, 2, 2, 2]
    assert (totals.accepted, totals.quarantined_batches, totals.retries) == (10, 0, 0)
    assert outbox.quarantined() == []
    assert outbox.status().depth_samples == 0


async def test_a_single_sample_too_large_is_quarantined(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(1))
    ingest.answer_next(413)
    async with httpx.AsyncClient(timeout=5.0) as client:
        totals = await _uploader(outbox, client, ingest, SleepRecorder()).drain()
    assert (totals.quarantined_batches, totals.quarantined_samples) == (1, 1)
    assert outbox.quarantined()[0].status_code == 413


async def test_unauthorized_stops_and_keeps_the_samples(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(5))
    ingest.answer_next(401)
    async with httpx.AsyncClient(timeout=5.0) as client:
        uploader = _uploader(outbox, client, ingest, SleepRecorder())
        with pytest.raises(UploadError, match="pair the hub again") as raised:
            await uploader.drain()
        assert raised.value.fields["status_code"] == 401
        assert outbox.status().depth_samples == 5
        await uploader.drain()
    assert ingest.received[0].batch_id == ingest.received[1].batch_id
    assert outbox.quarantined() == []


async def test_batch_resent_after_a_crash_keeps_its_id(tmp_path: Path, ingest: FakeIngest) -> None:
    path = tmp_path / "outbox.db"
    with Outbox(path) as box:
        box.append(_hr(8))
        batch = box.next_batch(max_samples=5, max_bytes=1 << 20)
        assert batch is not None
        # The service stores the batch, then the hub dies before it can acknowledge.
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.post(
                f"{ingest.url}/v1/ingest",
                content=batch.body,
                headers={"Authorization": f"Bearer {DEVICE_TOKEN}"},
            )
        assert response.json() == {"accepted": 5, "duplicates": 0}
    with Outbox(path) as box:
        async with httpx.AsyncClient(timeout=5.0) as client:
            totals = await _uploader(box, client, ingest, SleepRecorder()).drain()
        assert box.status().depth_samples == 0
    assert [r.batch_id for r in ingest.received[:2]] == [batch.batch_id, batch.batch_id]
    assert ingest.received[0].body == ingest.received[1].body
    assert (totals.accepted, totals.duplicates) == (3, 5)


async def test_retry_after_is_honoured(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(2))
    ingest.answer_next(429)
    ingest.retry_after_s = "7"
    sleep = SleepRecorder()
    async with httpx.AsyncClient(timeout=5.0) as client:
        await _uploader(outbox, client, ingest, sleep).drain()
    assert len(sleep.delays_s) == 1
    assert sleep.delays_s[0] >= 7.0


async def test_gives_up_only_when_told_to(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(2))
    ingest.answer_next(*[503] * 10)
    retry = UploadRetryPolicy(give_up_after_s=100.0)
    ticks = iter([0.0, 30.0, 60.0, 90.0, 120.0])
    async with httpx.AsyncClient(timeout=5.0) as client:
        uploader = _uploader(outbox, client, ingest, SleepRecorder(), retry=retry, monotonic=ticks)
        with pytest.raises(UploadError, match="stays in the outbox"):
            await uploader.drain()
    assert len(ingest.received) == 4
    assert outbox.status().depth_samples == 2


async def test_run_loop_sends_full_batches_and_stops(outbox: Outbox, ingest: FakeIngest) -> None:
    outbox.append(_hr(12))  # one full batch of 10; the 2 left are younger than max_age_s
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=5.0) as client:
        uploader = _uploader(outbox, client, ingest, SleepRecorder())
        outcomes: list[BatchOutcome] = []

        def settled(outcome: BatchOutcome) -> None:
            outcomes.append(outcome)
            stop.set()

        async with asyncio.timeout(10.0):
            await uploader.run(stop, poll_s=0.01, on_outcome=settled)
    assert [len(r.samples) for r in ingest.received] == [10]
    assert [(o.result, o.accepted) for o in outcomes] == [("acked", 10)]
    assert outbox.status().depth_samples == 2


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    policy = UploadRetryPolicy(initial_backoff_s=1.0, multiplier=2.0, max_backoff_s=300.0)
    rng = random.Random(0)
    for attempt in range(1, 40):
        ceiling = min(300.0, 2.0 ** (attempt - 1))
        delays = [backoff_delay_s(attempt, policy=policy, rng=rng) for _ in range(50)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # full jitter spreads over the whole window
    assert backoff_delay_s(10_000, policy=policy, rng=rng) <= 300.0
    assert backoff_delay_s(1, policy=policy, rng=rng, retry_after_s=1_000.0) == 300.0
    with pytest.raises(ValueError, match="1-based"):
        backoff_delay_s(0, policy=policy, rng=rng)
    with pytest.raises(ValueError, match="backoff bounds"):
        UploadRetryPolicy(initial_backoff_s=10.0, max_backoff_s=1.0)
