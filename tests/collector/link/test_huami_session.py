"""The Huami session inside DeviceLink, against a fake client and the band's side of the protocol."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable

import pytest
from bleak.exc import BleakDBusError
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from collector.link import (
    AdvertisementBoard,
    DeviceLink,
    DisconnectedCallback,
    ErrorClass,
    HuamiSession,
    LinkConfig,
    LinkState,
    classify,
    huami_auth_flags,
)
from collector.profiles.heart_rate import HEART_RATE_CONTROL_POINT_UUID
from collector.profiles.huami import (
    HR_START_COMMANDS,
    MI_BAND_2_AUTH_FLAGS,
    MI_BAND_3_AUTH_FLAGS,
    HuamiAuthError,
)
from tests.collector.link.fake_miband import (
    AUTH,
    HR_CONTROL_POINT,
    HR_MEASUREMENT,
    KEY,
    REALTIME_STEPS,
    MiBandFirmware,
    steps_payload,
)
from tests.collector.link.link_fakes import (
    ADDRESS,
    BATTERY_LEVEL,
    FAST_POLICY,
    Advertiser,
    FakeClient,
    FakeFactory,
    Outcome,
    Responder,
)

WRONG_KEY = bytes(range(16))
MI_BAND_UUIDS = {AUTH, REALTIME_STEPS, HR_MEASUREMENT, HR_CONTROL_POINT}
CONFIG = LinkConfig(
    advertisement_wait_s=0.5,
    connect_timeout_s=0.5,
    auth_timeout_s=0.5,
    subscribe_timeout_s=0.5,
    silence_timeout_s=5.0,
    disconnect_timeout_s=0.5,
    queue_size=64,
)
KEEPALIVE_S = 0.005


async def until(predicate: Callable[[], bool], *, limit_s: float = 5.0) -> None:
    """Yield to the loop until ``predicate`` holds (a safety limit only, never asserted on)."""
    async with asyncio.timeout(limit_s):
        while not predicate():  # noqa: ASYNC110 - the predicates read plain attributes
            await asyncio.sleep(0.001)


def encrypted(key: bytes, number: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(number) + encryptor.finalize()


class Band:
    """Builds fake clients backed by a fresh firmware per connection, as a real band behaves."""

    def __init__(
        self,
        *,
        key: bytes = KEY,
        uuids: set[str] = MI_BAND_UUIDS,
        responder: Responder | None = None,
    ) -> None:
        self.key = key
        self.uuids = uuids
        self.responder = responder
        self.firmwares: list[MiBandFirmware] = []

    def __call__(self, disconnected: DisconnectedCallback) -> FakeClient:
        firmware = MiBandFirmware(key=self.key, seed=len(self.firmwares))
        self.firmwares.append(firmware)

        def respond(client: FakeClient, uuid: str, value: bytes) -> list[tuple[str, bytes]]:
            if self.responder is not None:
                return self.responder(client, uuid, value)
            return firmware.on_write(uuid, value)

        return FakeClient(
            self.uuids,
            disconnected=disconnected,
            reads={REALTIME_STEPS: steps_payload(1200)},
            responder=respond,
        )


class Harness:
    def __init__(
        self, script: list[Outcome], *, name: str = "MI Band 2", config: LinkConfig = CONFIG
    ) -> None:
        self.board = AdvertisementBoard()
        self.advertiser = Advertiser(self.board, name=name)
        self.factory = FakeFactory(script)
        self.session = HuamiSession(key=KEY, keepalive_interval_s=KEEPALIVE_S)
        self.link = DeviceLink(
            address=ADDRESS,
            name="band",
            advertisements=self.board,
            client_factory=self.factory,
            notify_uuids=[HR_MEASUREMENT, BATTERY_LEVEL],
            read_uuids=[BATTERY_LEVEL],
            config=config,
            policy=FAST_POLICY,
            rng=random.Random(3),
            session=self.session,
        )
        self.tasks = [
            asyncio.create_task(self.link.run()),
            asyncio.create_task(self.advertiser.keep_advertising()),
        ]

    async def close(self) -> None:
        self.link.stop()
        self.tasks[1].cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def harnesses() -> AsyncIterator[list[Harness]]:
    made: list[Harness] = []
    yield made
    for harness in made:
        await harness.close()


async def test_handshake_then_steps_heart_rate_start_and_keepalive(
    harnesses: list[Harness],
) -> None:
    band = Band()
    harness = Harness([band])
    harnesses.append(harness)
    link = harness.link
    await until(lambda: link.state is LinkState.STREAMING)
    [client] = harness.factory.clients
    [firmware] = band.firmwares
    assert firmware.authenticated
    assert set(link.snapshot().subscribed) == {REALTIME_STEPS, HR_MEASUREMENT}

    # The handshake: request a random number, answer it encrypted under the key.
    auth_writes = [data for uuid, data in client.writes if uuid == AUTH]
    assert auth_writes[0] == bytes((0x02, MI_BAND_2_AUTH_FLAGS))
    assert auth_writes[1][:2] == bytes((0x03, MI_BAND_2_AUTH_FLAGS))
    assert len(auth_writes) == 2
    # The heart-rate control point gets the start commands, in order, then pings.
    await until(lambda: firmware.pings >= 3)
    cp_writes = [data for uuid, data in client.writes if uuid == HEART_RATE_CONTROL_POINT_UUID]
    assert tuple(cp_writes[: len(HR_START_COMMANDS)]) == HR_START_COMMANDS
    assert set(cp_writes[len(HR_START_COMMANDS) :]) == {b"\x16"}
    assert firmware.hr_continuous
    assert harness.session.keepalives >= 3
    # Nothing is written to the band before it accepted the key.
    first_cp = next(i for i, (uuid, _) in enumerate(client.writes) if uuid == HR_CONTROL_POINT)
    assert first_cp > max(i for i, (uuid, _) in enumerate(client.writes) if uuid == AUTH)

    # Today's steps are read once; later notifications are queued like any other.
    client.notify(REALTIME_STEPS, steps_payload(1234))
    client.notify(HR_MEASUREMENT, b"\x00\x48")
    await until(lambda: link.queue.qsize() >= 3)
    queued = [link.queue.get_nowait()[1:] for _ in range(3)]
    assert queued == [
        (REALTIME_STEPS, steps_payload(1200)),
        (REALTIME_STEPS, steps_payload(1234)),
        (HR_MEASUREMENT, b"\x00\x48"),
    ]


async def test_a_mi_band_3_is_authenticated_with_its_own_flags(harnesses: list[Harness]) -> None:
    band = Band()
    harness = Harness([band], name="Mi Band 3")
    harnesses.append(harness)
    await until(lambda: harness.link.state is LinkState.STREAMING)
    [firmware] = band.firmwares
    assert firmware.authenticated
    assert firmware.auth_flags_seen == [MI_BAND_3_AUTH_FLAGS, MI_BAND_3_AUTH_FLAGS]


def test_auth_flags_follow_the_advertised_model() -> None:
    assert huami_auth_flags("MI Band 2") == MI_BAND_2_AUTH_FLAGS
    assert huami_auth_flags("Mi Band 3") == MI_BAND_3_AUTH_FLAGS
    assert huami_auth_flags("mi band 3i") == MI_BAND_3_AUTH_FLAGS
    assert huami_auth_flags(None) == MI_BAND_2_AUTH_FLAGS


async def test_a_wrong_key_is_logged_once_and_the_link_waits_for_re_pairing(
    harnesses: list[Harness], caplog: pytest.LogCaptureFixture
) -> None:
    band = Band(key=WRONG_KEY)
    with caplog.at_level(logging.DEBUG, logger="collector.link"):
        harness = Harness([band])
        harnesses.append(harness)
        link = harness.link
        await until(lambda: link.state is LinkState.REFUSED)
        # Advertisements keep coming (every 2 ms) while the parked link ignores them.
        await asyncio.sleep(0.05)
    assert len(harness.factory.attempts) == 1
    assert band.firmwares[0].refused
    [client] = harness.factory.clients
    assert client.disconnect_calls == 1
    assert not any(uuid == HR_CONTROL_POINT for uuid, _ in client.writes)
    snap = link.snapshot()
    assert snap.state is LinkState.REFUSED
    assert snap.failures == 1
    assert snap.connects == 0
    assert "refused the auth key (step 0x03, status 0x04)" in (snap.last_error or "")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert "[credentials]" in errors[0]
    assert "--huami-key" in errors[0]
    assert "not reconnecting until the hub is paired again" in errors[0]
    await harness.close()
    assert link.state is LinkState.STOPPED


async def test_a_band_that_never_answers_times_out_and_is_retried(
    harnesses: list[Harness],
) -> None:
    silent = Band(responder=lambda _client, _uuid, _value: [])
    config = LinkConfig(
        advertisement_wait_s=0.5,
        connect_timeout_s=0.5,
        auth_timeout_s=0.02,
        subscribe_timeout_s=0.5,
        silence_timeout_s=5.0,
        disconnect_timeout_s=0.5,
    )
    harness = Harness([silent, silent, Band()], config=config)
    harnesses.append(harness)
    link = harness.link
    await until(lambda: link.state is LinkState.STREAMING)
    assert len(harness.factory.attempts) == 3
    assert link.snapshot().failures == 2
    assert all(client.disconnect_calls == 1 for client in harness.factory.clients[:2])
    assert all(
        [data for _, data in client.writes] == [b"\x02\x08"]
        for client in harness.factory.clients[:2]
    )


async def test_the_band_dropping_mid_handshake_is_a_transient_failure(
    harnesses: list[Harness],
) -> None:
    firmware = MiBandFirmware(seed=9)

    def drop_on_the_answer(client: FakeClient, uuid: str, value: bytes) -> list[tuple[str, bytes]]:
        if value[0] == 0x03:
            client.drop()
            return []
        return firmware.on_write(uuid, value)

    harness = Harness([Band(responder=drop_on_the_answer), Band()])
    harnesses.append(harness)
    link = harness.link
    await until(lambda: link.state is LinkState.STREAMING)
    assert len(harness.factory.attempts) == 2
    assert "dropped the link mid-conversation" in (link.snapshot().last_error or "")


async def test_out_of_protocol_answers_and_missing_auth_are_retried_as_gatt_errors(
    harnesses: list[Harness], caplog: pytest.LogCaptureFixture
) -> None:
    garbled = Band(responder=lambda _client, uuid, _value: [(uuid, b"\x10\x02")])
    not_huami = Band(uuids={HR_MEASUREMENT})
    with caplog.at_level(logging.DEBUG, logger="collector.link"):
        harness = Harness([garbled, not_huami, Band()])
        harnesses.append(harness)
        await until(lambda: harness.link.state is LinkState.STREAMING)
    errors = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(errors) == 2
    assert "unexpected Huami auth answer 1002" in errors[0]
    assert "[connect]" in errors[0]
    assert "no Huami auth characteristic" in errors[1]


async def test_a_failing_keepalive_on_a_live_link_reconnects(harnesses: list[Harness]) -> None:
    def refuse_pings(client: FakeClient, uuid: str, value: bytes) -> list[tuple[str, bytes]]:
        if value == b"\x16":
            raise BleakDBusError("org.bluez.Error.Failed", ["Operation failed"])
        return firmware.on_write(uuid, value)

    firmware = MiBandFirmware()
    harness = Harness([Band(responder=refuse_pings), Band()])
    harnesses.append(harness)
    link = harness.link
    await until(lambda: len(harness.factory.attempts) == 2 and link.state is LinkState.STREAMING)
    assert harness.factory.clients[0].disconnect_calls == 1
    assert "keep alive" in (link.snapshot().last_error or "")


def test_the_wrong_key_error_is_never_retried() -> None:
    error = HuamiAuthError("refused", step=3, status=4)
    assert classify(error) is ErrorClass.CREDENTIALS


def test_the_fake_band_checks_aes_ecb_of_its_challenge() -> None:
    firmware = MiBandFirmware(key=KEY, seed=1)
    [(uuid, answer)] = firmware.on_write(AUTH, b"\x02\x08")
    assert (uuid, answer[:3]) == (AUTH, b"\x10\x02\x01")
    proof = b"\x03\x08" + encrypted(KEY, answer[3:])
    assert firmware.on_write(AUTH, proof) == [(AUTH, b"\x10\x03\x01")]
    assert firmware.authenticated
