"""Huami Mi Band 2 / 3: realtime steps, the AES authentication handshake, heart-rate commands.

Until a Huami band is authenticated on a connection it sends nothing useful. The handshake runs
on the auth characteristic ``00000009-0000-3512-2118-0009af100700`` of service 0xFEE1
(Gadgetbridge ``HuamiService``/``InitOperation``):

1. first pairing only: write ``01 <auth flags> <16-byte key>``; the band asks the wearer to tap
   it and answers ``10 01 01``;
2. write ``02 <auth flags>``; the band answers ``10 02 01`` and a 16-byte random number;
3. write ``03 <auth flags>`` and the random number encrypted with AES-128-ECB under the key;
   the band answers ``10 03 01`` (authenticated) or ``10 03 04`` (wrong key).

The auth flags byte is 0x08 on the Mi Band 2 and 0x00 on the Mi Band 3 (Gadgetbridge
``MiBand2Support``/``MiBand3Support.getAuthFlags``). :class:`HuamiAuth` is that exchange as a
pure state machine: it returns the bytes to write and consumes the band's notifications.

Realtime steps arrive on ``00000007-0000-3512-2118-0009af100700`` (service 0xFEE0) as a 13-byte
payload with today's step count as uint16 LE at bytes 1–2 (Gadgetbridge
``HuamiSupport.handleRealtimeSteps``). Heart rate arrives on the standard Heart Rate Measurement
(0x2A37) once the commands in :data:`HR_START_COMMANDS` are written to the Heart Rate Control
Point (0x2A39), and keeps coming while :data:`HR_KEEPALIVE_COMMAND` is written periodically.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from collector.errors import DeviceError, PayloadError
from collector.profiles._reader import Payload, Reader
from collector.profiles._uuid import uuid16

__all__ = [
    "HR_KEEPALIVE_COMMAND",
    "HR_KEEPALIVE_INTERVAL_S",
    "HR_START_COMMANDS",
    "HR_STOP_COMMANDS",
    "HUAMI_AUTH_CHARACTERISTIC_UUID",
    "HUAMI_AUTH_SERVICE_UUID",
    "HUAMI_REALTIME_STEPS_UUID",
    "HUAMI_SERVICE_UUID",
    "MI_BAND_2_AUTH_FLAGS",
    "MI_BAND_3_AUTH_FLAGS",
    "PAIRING_TAP_TIMEOUT_S",
    "HuamiAuth",
    "HuamiAuthError",
    "HuamiAuthPhase",
    "HuamiPairingError",
    "HuamiRealtimeSteps",
    "new_auth_key",
    "parse_auth_key",
    "parse_realtime_steps",
]

HUAMI_SERVICE_UUID = uuid16(0xFEE0)  # SIG Assigned Numbers (member services): Anhui Huami
HUAMI_AUTH_SERVICE_UUID = uuid16(0xFEE1)  # SIG Assigned Numbers (member services): Anhui Huami
HUAMI_AUTH_CHARACTERISTIC_UUID = "00000009-0000-3512-2118-0009af100700"  # Gadgetbridge HuamiService
HUAMI_REALTIME_STEPS_UUID = "00000007-0000-3512-2118-0009af100700"  # Gadgetbridge HuamiService

MI_BAND_2_AUTH_FLAGS = 0x08  # Gadgetbridge HuamiService.AUTH_BYTE (Mi Band 2)
MI_BAND_3_AUTH_FLAGS = 0x00  # Gadgetbridge MiBand3Support.getAuthFlags()

# Heart Rate Control Point commands (Gadgetbridge HuamiSupport): 0x15 <mode> <on/off>, mode 0x01
# continuous, 0x02 manual; 0x16 is the keep-alive ping of a continuous measurement.
HR_STOP_COMMANDS = (bytes((0x15, 0x02, 0x00)), bytes((0x15, 0x01, 0x00)))
HR_START_COMMANDS = (*HR_STOP_COMMANDS, bytes((0x15, 0x01, 0x01)))
HR_KEEPALIVE_COMMAND = bytes((0x16,))
HR_KEEPALIVE_INTERVAL_S = 10.0  # tunable default; open-source Mi Band 2 clients ping every 1–12 s
# First pairing: how long to wait for the wearer to tap the band after the key was written.
# Gadgetbridge's InitOperation waits for the band's answer with no deadline of its own (the
# user watches the phone); an unattended hub needs one. Tunable default: a minute to find the
# band and tap it.
PAIRING_TAP_TIMEOUT_S = 60.0

_STEPS_NAME = "Huami Realtime Steps"
_AUTH_NAME = "Huami Auth"
_STEPS_PAYLOAD_SIZE = 13  # Gadgetbridge HuamiSupport.handleRealtimeSteps accepts 13 bytes only
_KEY_SIZE = 16  # AES-128 key, Gadgetbridge InitOperation.getSecretKey
_RANDOM_SIZE = 16  # one AES block, Gadgetbridge InitOperation.handleAESAuth
_CMD_SEND_KEY = 0x01  # Gadgetbridge HuamiService.AUTH_SEND_KEY
_CMD_REQUEST_RANDOM = 0x02  # Gadgetbridge HuamiService.AUTH_REQUEST_RANDOM_AUTH_NUMBER
_CMD_SEND_ENCRYPTED = 0x03  # Gadgetbridge HuamiService.AUTH_SEND_ENCRYPTED_AUTH_NUMBER
_RESPONSE = 0x10  # Gadgetbridge HuamiService.AUTH_RESPONSE
_SUCCESS = 0x01  # Gadgetbridge HuamiService.AUTH_SUCCESS


class HuamiAuthError(DeviceError):
    """The band refused a step of the authentication handshake (e.g. the key is wrong)."""


class HuamiPairingError(HuamiAuthError):
    """First pairing failed: the band refused the new key, or the wearer did not tap it."""


@dataclass(frozen=True, slots=True)
class HuamiRealtimeSteps:
    """The band's realtime step counter.

    Attributes
    ----------
    steps_today : int
        Steps counted since local midnight on the band (uint16).
    """

    steps_today: int


def parse_realtime_steps(data: Payload) -> HuamiRealtimeSteps:
    """Decode a realtime steps notification (exactly 13 bytes, steps at bytes 1–2).

    Raises
    ------
    PayloadError
        If the payload is not exactly 13 bytes.
    """
    reader = Reader(data, characteristic=_STEPS_NAME)
    if reader.remaining != _STEPS_PAYLOAD_SIZE:
        raise PayloadError(
            f"{_STEPS_NAME}: expected {_STEPS_PAYLOAD_SIZE} bytes, got {reader.remaining}",
            characteristic=_STEPS_NAME,
            length=reader.remaining,
            needed=_STEPS_PAYLOAD_SIZE,
        )
    reader.u8("header")
    return HuamiRealtimeSteps(steps_today=reader.u16("steps"))


def parse_auth_key(text: str) -> bytes:
    """Parse the user's auth key, given as 32 hex digits (optionally ``0x``-prefixed).

    Raises
    ------
    ValueError
        If ``text`` is not exactly 16 bytes of hex.
    """
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    try:
        key = bytes.fromhex(cleaned)
    except ValueError as exc:
        raise ValueError("auth key must be 32 hexadecimal digits") from exc
    if len(key) != _KEY_SIZE:
        raise ValueError(f"auth key must be {_KEY_SIZE} bytes (32 hex digits), got {len(key)}")
    return key


def new_auth_key() -> bytes:
    """A random 16-byte auth key for a band that holds none yet (written on first pairing)."""
    return secrets.token_bytes(_KEY_SIZE)


class HuamiAuthPhase(enum.Enum):
    """Where the handshake stands."""

    IDLE = "idle"
    AWAIT_KEY_ACK = "await_key_ack"
    AWAIT_RANDOM = "await_random"
    AWAIT_VERDICT = "await_verdict"
    AUTHENTICATED = "authenticated"


_EXPECTED_STEP = {
    HuamiAuthPhase.AWAIT_KEY_ACK: _CMD_SEND_KEY,
    HuamiAuthPhase.AWAIT_RANDOM: _CMD_REQUEST_RANDOM,
    HuamiAuthPhase.AWAIT_VERDICT: _CMD_SEND_ENCRYPTED,
}


@dataclass(frozen=True, slots=True)
class HuamiAuth:
    """The Huami authentication handshake as an immutable state machine.

    Parameters
    ----------
    key : bytes
        The 16-byte AES key the user supplied (see :func:`parse_auth_key`).
    auth_flags : int
        :data:`MI_BAND_2_AUTH_FLAGS` or :data:`MI_BAND_3_AUTH_FLAGS`.
    send_key : bool
        ``True`` on first pairing: the key is written to the band first and the wearer must tap
        the band. ``False`` when the band already holds the key.
    phase : HuamiAuthPhase
        Current phase; leave at the default.

    Examples
    --------
    >>> auth, write = HuamiAuth(key=bytes(16)).start()
    >>> write.hex()
    '0208'
    """

    key: bytes
    auth_flags: int = MI_BAND_2_AUTH_FLAGS
    send_key: bool = False
    phase: HuamiAuthPhase = HuamiAuthPhase.IDLE

    def __post_init__(self) -> None:
        if len(self.key) != _KEY_SIZE:
            raise ValueError(f"key must be {_KEY_SIZE} bytes, got {len(self.key)}")
        if self.auth_flags not in (MI_BAND_2_AUTH_FLAGS, MI_BAND_3_AUTH_FLAGS):
            raise ValueError(f"auth_flags must be 0x08 or 0x00, got {self.auth_flags:#04x}")

    @property
    def authenticated(self) -> bool:
        """Whether the band accepted the handshake."""
        return self.phase is HuamiAuthPhase.AUTHENTICATED

    def _to(self, phase: HuamiAuthPhase) -> HuamiAuth:
        return HuamiAuth(
            key=self.key, auth_flags=self.auth_flags, send_key=self.send_key, phase=phase
        )

    def _request_random(self) -> tuple[HuamiAuth, bytes]:
        return self._to(HuamiAuthPhase.AWAIT_RANDOM), bytes((_CMD_REQUEST_RANDOM, self.auth_flags))

    def start(self) -> tuple[HuamiAuth, bytes]:
        """Begin (or restart) the handshake; return the next state and the bytes to write."""
        if self.send_key:
            command = bytes((_CMD_SEND_KEY, self.auth_flags)) + self.key
            return self._to(HuamiAuthPhase.AWAIT_KEY_ACK), command
        return self._request_random()

    def receive(self, response: Payload) -> tuple[HuamiAuth, bytes | None]:
        """Consume one auth-characteristic notification.

        Returns
        -------
        tuple of (HuamiAuth, bytes or None)
            The next state and the bytes to write next, or ``None`` once authenticated.

        Raises
        ------
        PayloadError
            If the notification is malformed or does not answer the step in progress.
        HuamiAuthError
            If the band reports failure for the step in progress.
        """
        expected = _EXPECTED_STEP.get(self.phase)
        if expected is None:
            raise PayloadError(
                f"{_AUTH_NAME}: unexpected notification in phase {self.phase.value}",
                characteristic=_AUTH_NAME,
                phase=self.phase.value,
            )
        reader = Reader(response, characteristic=_AUTH_NAME)
        kind, step, status = reader.u8("response"), reader.u8("step"), reader.u8("status")
        if kind != _RESPONSE or step != expected:
            raise PayloadError(
                f"{_AUTH_NAME}: expected a response to step {expected:#04x}, "
                f"got {bytes(response)[:3].hex()}",
                characteristic=_AUTH_NAME,
                phase=self.phase.value,
            )
        if status != _SUCCESS:
            raise HuamiAuthError(
                f"band refused auth step {step:#04x} with status {status:#04x}"
                + (" (wrong key?)" if step == _CMD_SEND_ENCRYPTED else ""),
                step=step,
                status=status,
            )
        if self.phase is HuamiAuthPhase.AWAIT_KEY_ACK:
            reader.expect_end()
            return self._request_random()
        if self.phase is HuamiAuthPhase.AWAIT_RANDOM:
            random_number = reader.raw(_RANDOM_SIZE, "random number")
            reader.expect_end()
            encryptor = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()  # noqa: S305
            encrypted = encryptor.update(random_number) + encryptor.finalize()
            command = bytes((_CMD_SEND_ENCRYPTED, self.auth_flags)) + encrypted
            return self._to(HuamiAuthPhase.AWAIT_VERDICT), command
        reader.expect_end()
        return self._to(HuamiAuthPhase.AUTHENTICATED), None
