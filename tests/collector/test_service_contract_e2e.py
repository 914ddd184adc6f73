"""The collector's side of the wire contract, against a real ``rehab serve`` and PostgreSQL.

``tests/collector/test_wire_contract.py`` checks the collector's encoding against the examples
of ``service/ingest/WIRE_FORMAT.md``; here the collector's own outbox and uploader talk to the
real service and the test reads what PostgreSQL stored: every kind and optional field, re-sent
batches, the ``401``/``413``/``422`` answers, and two devices of one hub in the same millisecond.
The service runs with a 100-sample batch limit so that ``413`` is cheap to provoke.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from psycopg import AsyncConnection

from collector.errors import UploadError
from collector.outbox import Outbox
from collector.upload import Uploader, UploadRetryPolicy
from collector.wire import (
    BikeSample,
    CadenceSample,
    HeartRateSample,
    Sample,
    StepsSample,
    encode_batch,
)
from tests.collector.e2e.clinic import Enrolment, as_row, enrol_hub, stored_rows
from tests.collector.e2e.service_process import ServiceProcess, running_service

pytestmark = pytest.mark.e2e

SERVICE_MAX_SAMPLES = 100  # REHAB_INGEST_MAX_SAMPLES of the service under test
T0_S = 1_778_400_000.0  # 2026-05-10T08:00:00Z, a fixed past morning

EVERY_KIND: tuple[Sample, ...] = (
    HeartRateSample(t_s=T0_S + 1.25, bpm=88, rr_s=(0.68, 0.69), contact="detected"),
    HeartRateSample(t_s=T0_S + 2.0, bpm=20, contact="not_supported"),
    HeartRateSample(t_s=T0_S + 3.001, bpm=250, contact="not_detected"),
    HeartRateSample(t_s=T0_S + 4.999, bpm=61),
    StepsSample(t_s=T0_S + 60.0, steps=104, interval_s=60),
    StepsSample(t_s=T0_S + 61.0, steps=0, interval_s=1),
    StepsSample(t_s=T0_S + 3661.0, steps=14_400, interval_s=3600),
    CadenceSample(t_s=T0_S + 30.0, spm=104.0),
    CadenceSample(t_s=T0_S + 31.5, spm=162.5, running=True),
    CadenceSample(t_s=T0_S + 32.0, spm=0.0, running=False),
    BikeSample(t_s=T0_S + 90.0, rpm=62.0, power_w=45),
    BikeSample(t_s=T0_S + 91.0, rpm=250.0, power_w=3000),
    BikeSample(t_s=T0_S + 92.0, rpm=0.5),
)
FAST_RETRY = UploadRetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05, give_up_after_s=5.0)


@pytest.fixture(scope="module")
def service(
    session_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {"REHAB_INGEST_MAX_SAMPLES": str(SERVICE_MAX_SAMPLES)}
    with running_service(db_url=session_db_url, log_path=log_path, env=env) as process:
        yield process


@pytest.fixture
async def hub(db_url: str, service: ServiceProcess) -> Enrolment:
    return await enrol_hub(db_url)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "outbox.sqlite3") as box:
        yield box


def uploader(
    outbox: Outbox, http: httpx.AsyncClient, service: ServiceProcess, token: str, **limits: int
) -> Uploader:
    return Uploader(
        outbox=outbox,
        client=http,
        server_url=service.url,
        device_token=token,
        max_samples=limits.get("max_samples", 1000),
        max_bytes=limits.get("max_bytes", 4 * 1024 * 1024),
        max_age_s=0.0,
        retry=FAST_RETRY,
    )


async def test_every_kind_and_optional_field_is_stored_as_sent(
    service: ServiceProcess, hub: Enrolment, db_url: str, outbox: Outbox, http: httpx.AsyncClient
) -> None:
    outbox.append(EVERY_KIND)
    totals = await uploader(outbox, http, service, hub.token).drain()
    assert (totals.batches, totals.accepted, totals.duplicates) == (1, len(EVERY_KIND), 0)
    assert await stored_rows(db_url, hub.device_id) == Counter(map(as_row, EVERY_KIND))
    async with await AsyncConnection.connect(db_url) as conn:
        cur = await conn.execute(
            "SELECT rr_s FROM hr_samples WHERE device_id = %s AND rr_s IS NOT NULL",
            (hub.device_id,),
        )
        assert [[round(x, 4) for x in r] for (r,) in await cur.fetchall()] == [[0.68, 0.69]]
        cur = await conn.execute(
            "SELECT n_samples, accepted, duplicates FROM ingest_batches WHERE device_id = %s",
            (hub.device_id,),
        )
        assert await cur.fetchall() == [(len(EVERY_KIND), len(EVERY_KIND), 0)]


async def test_a_re_sent_batch_is_counted_as_duplicates_and_stores_nothing_new(
    service: ServiceProcess, hub: Enrolment, db_url: str, http: httpx.AsyncClient
) -> None:
    body = encode_batch(str(uuid.uuid4()), EVERY_KIND[:5])
    headers = {"Authorization": f"Bearer {hub.token}", "Content-Type": "application/json"}
    first = await http.post(f"{service.url}/v1/ingest", content=body, headers=headers)
    again = await http.post(f"{service.url}/v1/ingest", content=body, headers=headers)
    assert first.json() == {"accepted": 5, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 5}
    # The same samples in a new batch (an outbox formed again after a crash) are duplicates too.
    other = encode_batch(str(uuid.uuid4()), EVERY_KIND[:7])
    third = await http.post(f"{service.url}/v1/ingest", content=other, headers=headers)
    assert third.json() == {"accepted": 2, "duplicates": 5}
    assert await stored_rows(db_url, hub.device_id) == Counter(map(as_row, EVERY_KIND[:7]))


async def test_batches_over_the_service_limit_are_formed_again_smaller(
    service: ServiceProcess, hub: Enrolment, db_url: str, outbox: Outbox, http: httpx.AsyncClient
) -> None:
    samples = [HeartRateSample(t_s=T0_S + i, bpm=60 + i % 40) for i in range(350)]
    outbox.append(samples)
    up = uploader(outbox, http, service, hub.token, max_samples=350)
    totals = await up.drain()
    assert totals.accepted == 350
    assert totals.quarantined_samples == 0
    assert totals.batches >= 4  # at most 100 samples per accepted batch
    assert await stored_rows(db_url, hub.device_id) == Counter(map(as_row, samples))
    assert outbox.status().depth_samples == 0


async def test_an_invalid_sample_quarantines_its_batch_with_the_services_reason(
    service: ServiceProcess, hub: Enrolment, db_url: str, outbox: Outbox, http: httpx.AsyncClient
) -> None:
    # 2000-01-01 is the earliest time the service takes (WIRE_FORMAT.md); this is the day before.
    too_early = HeartRateSample(t_s=946_598_400.0, bpm=70)
    outbox.append([EVERY_KIND[0], too_early, EVERY_KIND[4]])
    totals = await uploader(outbox, http, service, hub.token).drain()
    assert (totals.accepted, totals.quarantined_batches, totals.quarantined_samples) == (0, 1, 3)
    (kept,) = outbox.quarantined()
    assert kept.status_code == 422
    assert "samples.1.t" in kept.reason
    assert await stored_rows(db_url, hub.device_id) == Counter()


async def test_an_unknown_token_stops_the_uploader_and_keeps_the_samples(
    service: ServiceProcess, hub: Enrolment, outbox: Outbox, http: httpx.AsyncClient
) -> None:
    outbox.append(EVERY_KIND)
    with pytest.raises(UploadError, match="HTTP 401"):
        await uploader(outbox, http, service, "rmd_not-a-token").drain()
    assert outbox.status().depth_samples == len(EVERY_KIND)
    totals = await uploader(outbox, http, service, hub.token).drain()
    assert totals.accepted == len(EVERY_KIND)


async def test_two_sensors_in_the_same_millisecond_are_both_stored(
    service: ServiceProcess, hub: Enrolment, db_url: str, outbox: Outbox, http: httpx.AsyncClient
) -> None:
    # A band and a watch notify heart rate; the hub stamps both in the same millisecond. Each
    # paired device has its own sensor number, which is part of the service's natural key.
    band = [HeartRateSample(t_s=T0_S + i + 0.5, bpm=70 + i, sensor=1) for i in range(5)]
    watch = [HeartRateSample(t_s=T0_S + i + 0.5, bpm=90 + i, sensor=2) for i in range(5)]
    outbox.append(band + watch)
    totals = await uploader(outbox, http, service, hub.token).drain()
    assert (totals.accepted, totals.duplicates) == (10, 0)
    stored = await stored_rows(db_url, hub.device_id)
    assert sorted(row[2] for row in stored) == sorted(s.bpm for s in band + watch)
    # Times are kept exactly; no sample is moved to make room for another.
    assert {row[1] for row in stored} == {round((T0_S + i + 0.5) * 1000) for i in range(5)}


async def test_the_same_sensor_twice_in_one_millisecond_is_a_duplicate(
    service: ServiceProcess, hub: Enrolment, db_url: str, outbox: Outbox, http: httpx.AsyncClient
) -> None:
    outbox.append(
        [
            HeartRateSample(t_s=T0_S + 0.5, bpm=70, sensor=1),
            HeartRateSample(t_s=T0_S + 0.5, bpm=90, sensor=1),
        ]
    )
    totals = await uploader(outbox, http, service, hub.token).drain()
    assert (totals.accepted, totals.duplicates) == (1, 1)
    assert len(await stored_rows(db_url, hub.device_id)) == 1
