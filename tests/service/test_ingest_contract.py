"""Contract test, service side: the request documented in WIRE_FORMAT.md, and what the collector
encodes, are accepted by POST /v1/ingest exactly as documented; the service rejects exactly what
falls outside the bounds the hub clamps to (the ``wire`` schema)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import pytest

import wire
from collector.wire import BikeSample, CadenceSample, HeartRateSample, StepsSample, encode_batch
from service.errors import ValidationFailedError
from service.ingest import parse_batch
from tests.fixtures.service import World

WIRE_FORMAT = Path(__file__).resolve().parents[2] / "service" / "ingest" / "WIRE_FORMAT.md"


def _documented_request() -> bytes:
    text = WIRE_FORMAT.read_text(encoding="utf-8")
    (example,) = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    return str(example).encode()


async def test_documented_example_is_accepted_and_idempotent(world: World) -> None:
    body = _documented_request()
    n = len(orjson.loads(body)["samples"])
    headers = {**world.auth(world.device_token), "Content-Type": "application/json"}
    first = await world.client.post("/v1/ingest", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": n, "duplicates": 0}
    again = await world.client.post("/v1/ingest", content=body, headers=headers)
    assert again.json() == {"accepted": 0, "duplicates": n}


async def test_collector_encoding_is_accepted(world: World) -> None:
    t = 1_778_403_600.25  # 2026-05-10T09:00:00.250Z
    samples: list[HeartRateSample | StepsSample | CadenceSample | BikeSample] = [
        HeartRateSample(t_s=t, bpm=88, rr_s=(0.68, 0.69)),
        StepsSample(t_s=t + 60, steps=104, interval_s=60),
        CadenceSample(t_s=t + 30, spm=104.0, running=False),
        BikeSample(t_s=t + 7200, rpm=62.0, power_w=45),
    ]
    body = encode_batch(str(uuid.uuid4()), samples)
    response = await world.client.post(
        "/v1/ingest",
        content=body,
        headers={**world.auth(world.device_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 4, "duplicates": 0}
    with psycopg.connect(world.db_url) as conn:
        row = conn.execute("SELECT extract(epoch FROM t), bpm FROM hr_samples").fetchone()
    assert row is not None
    assert float(row[0]) == t
    assert row[1] == 88


T_S = 1_778_403_600.0  # 2026-05-10T09:00:00Z
NOW = datetime.fromtimestamp(T_S + 60, tz=UTC)


@pytest.mark.parametrize(
    ("sample", "rejected_field"),
    [
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MIN, rr_s=(wire.RR_MIN_S,), sensor=1), None),
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MAX, rr_s=(wire.RR_MAX_S,) * 16), None),
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MIN - 1), "bpm"),
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MAX + 1), "bpm"),
        (HeartRateSample(t_s=T_S, bpm=70, rr_s=(wire.RR_MIN_S - 0.01,)), "rr_s"),
        (HeartRateSample(t_s=T_S, bpm=70, sensor=wire.SENSOR_MAX + 1), "sensor"),
        (StepsSample(t_s=T_S, steps=wire.STEPS_PER_S_MAX * 60, interval_s=60), None),
        (StepsSample(t_s=T_S, steps=wire.STEPS_PER_S_MAX * 60 + 1, interval_s=60), "steps"),
        (StepsSample(t_s=T_S, steps=1, interval_s=wire.INTERVAL_MAX_S + 1), "interval_s"),
        (CadenceSample(t_s=T_S, spm=wire.SPM_MAX), None),
        (CadenceSample(t_s=T_S, spm=wire.SPM_MAX + 0.5), "spm"),
        (BikeSample(t_s=T_S, rpm=wire.RPM_MAX, power_w=wire.POWER_MAX_W), None),
        (BikeSample(t_s=T_S, rpm=wire.RPM_MAX + 0.5), "rpm"),
        (BikeSample(t_s=T_S, rpm=60.0, power_w=wire.POWER_MAX_W + 1), "power_w"),
    ],
)
def test_the_service_accepts_exactly_the_schema_bounds(
    sample: HeartRateSample | StepsSample | CadenceSample | BikeSample, rejected_field: str | None
) -> None:
    body = encode_batch(str(uuid.uuid4()), [sample])
    if rejected_field is None:
        assert parse_batch(body, now=NOW, max_samples=10).n_samples == 1
        return
    with pytest.raises(ValidationFailedError) as caught:
        parse_batch(body, now=NOW, max_samples=10)
    assert caught.value.fields["errors"][0]["loc"][:3] == ["samples", 0, rejected_field]
