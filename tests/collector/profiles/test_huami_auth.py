"""The Huami AES handshake as a state machine, against the FIPS-197 AES-128 test vector."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import DeviceError, PayloadError
from collector.profiles.huami import (
    HR_KEEPALIVE_COMMAND,
    HR_START_COMMANDS,
    HR_STOP_COMMANDS,
    MI_BAND_3_AUTH_FLAGS,
    HuamiAuth,
    HuamiAuthError,
    HuamiAuthPhase,
    parse_auth_key,
)

# FIPS-197 Appendix C.1: AES-128 key, plaintext and ciphertext.
KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
RANDOM = bytes.fromhex("00112233445566778899aabbccddeeff")
ENCRYPTED = bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")


def test_handshake_with_a_paired_band() -> None:
    auth, write = HuamiAuth(key=KEY).start()
    assert write == bytes.fromhex("0208")
    assert auth.phase is HuamiAuthPhase.AWAIT_RANDOM
    auth, write2 = auth.receive(bytes.fromhex("100201") + RANDOM)
    assert write2 == bytes.fromhex("0308") + ENCRYPTED
    assert not auth.authenticated
    auth, write3 = auth.receive(bytes.fromhex("100301"))
    assert write3 is None
    assert auth.authenticated


def test_first_pairing_sends_the_key_first_with_mi_band_3_flags() -> None:
    auth, write = HuamiAuth(key=KEY, auth_flags=MI_BAND_3_AUTH_FLAGS, send_key=True).start()
    assert write == bytes.fromhex("0100") + KEY
    auth, write2 = auth.receive(bytes.fromhex("100101"))
    assert write2 == bytes.fromhex("0200")
    auth, write3 = auth.receive(bytearray(bytes.fromhex("100201") + RANDOM))
    assert write3 == bytes.fromhex("0300") + ENCRYPTED
    auth, _ = auth.receive(bytes.fromhex("100301"))
    assert auth.authenticated


def test_states_are_immutable_values() -> None:
    start = HuamiAuth(key=KEY)
    start.start()
    assert start.phase is HuamiAuthPhase.IDLE


def test_wrong_key_is_a_typed_device_error() -> None:
    auth, _ = HuamiAuth(key=KEY).start()
    auth, _ = auth.receive(bytes.fromhex("100201") + RANDOM)
    with pytest.raises(HuamiAuthError) as info:
        auth.receive(bytes.fromhex("100304"))
    assert isinstance(info.value, DeviceError)
    assert info.value.fields == {"step": 3, "status": 4}


@pytest.mark.parametrize(("send_key", "response"), [(True, "100104"), (False, "100204")])
def test_refused_first_step(send_key: bool, response: str) -> None:
    auth, _ = HuamiAuth(key=KEY, send_key=send_key).start()
    with pytest.raises(HuamiAuthError):
        auth.receive(bytes.fromhex(response))


@pytest.mark.parametrize(
    "response",
    [
        "",  # empty
        "10",  # cut short
        "1002",  # no status
        "100301",  # answers a later step
        "110201" + RANDOM.hex(),  # not an auth response
        "100201" + RANDOM.hex()[:-2],  # 15-byte random number
        "100201" + RANDOM.hex() + "00",  # 17 bytes
    ],
)
def test_malformed_or_out_of_order_responses(response: str) -> None:
    auth, _ = HuamiAuth(key=KEY).start()
    with pytest.raises(PayloadError):
        auth.receive(bytes.fromhex(response))


def test_notification_before_start_or_after_success_is_rejected() -> None:
    with pytest.raises(PayloadError):
        HuamiAuth(key=KEY).receive(bytes.fromhex("100301"))
    auth, _ = HuamiAuth(key=KEY).start()
    auth, _ = auth.receive(bytes.fromhex("100201") + RANDOM)
    auth, _ = auth.receive(bytes.fromhex("100301"))
    with pytest.raises(PayloadError):
        auth.receive(bytes.fromhex("100301"))


def test_restart_after_failure_begins_again() -> None:
    auth, _ = HuamiAuth(key=KEY).start()
    auth, _ = auth.receive(bytes.fromhex("100201") + RANDOM)
    auth, write = auth.start()
    assert write == bytes.fromhex("0208")
    assert auth.phase is HuamiAuthPhase.AWAIT_RANDOM


@pytest.mark.parametrize(("key", "flags"), [(bytes(15), 0x08), (bytes(17), 0x08), (KEY, 0x80)])
def test_bad_configuration_is_a_value_error(key: bytes, flags: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        HuamiAuth(key=key, auth_flags=flags)


@pytest.mark.parametrize(
    "text",
    [
        "000102030405060708090a0b0c0d0e0f",
        "0x000102030405060708090A0B0C0D0E0F",
        " 00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f ",
    ],
)
def test_parse_auth_key(text: str) -> None:
    assert parse_auth_key(text) == KEY


@pytest.mark.parametrize("text", ["", "0001", "zz0102030405060708090a0b0c0d0e0f", "00" * 17])
def test_parse_auth_key_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="auth key"):
        parse_auth_key(text)


def test_heart_rate_commands() -> None:
    assert (bytes.fromhex("150200"), bytes.fromhex("150100")) == HR_STOP_COMMANDS
    assert HR_START_COMMANDS[-1] == bytes.fromhex("150101")
    assert HR_START_COMMANDS[:-1] == HR_STOP_COMMANDS
    assert HR_KEEPALIVE_COMMAND == b"\x16"


@pytest.mark.parametrize("send_key", [True, False])
@settings(max_examples=200, deadline=None, derandomize=True)
@given(responses=st.lists(st.binary(max_size=24), max_size=4))
def test_fuzz_handshake_raises_only_typed_errors(send_key: bool, responses: list[bytes]) -> None:
    auth, _ = HuamiAuth(key=KEY, send_key=send_key).start()
    for response in responses:
        try:
            auth, _ = auth.receive(response)
        except (PayloadError, HuamiAuthError):
            return
