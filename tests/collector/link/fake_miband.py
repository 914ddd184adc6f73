"""The band's side of a Huami Mi Band 2/3 connection, independent of any BLE stack.

It answers the auth characteristic as Gadgetbridge's ``InitOperation`` expects (``10 02 01`` and
a 16-byte random number, then ``10 03 01`` when the number comes back encrypted with
AES-128-ECB under its key, ``10 03 04`` otherwise). A band that holds no key yet takes one
written as ``01 <flags> <key>`` and answers ``10 01 01`` once the wearer tapped it; the key it
holds (:class:`BandMemory`) outlives the connection. It obeys the heart-rate control point commands
(``15 01 01`` starts continuous measurement, ``16`` pings it) and says which characteristics
notify. One instance is one connection: a band forgets its authentication when the link drops.
The link tests drive it through a fake client; the fake BlueZ serves it to unmodified bleak.
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "AUTH",
    "HR_CONTROL_POINT",
    "HR_MEASUREMENT",
    "KEY",
    "KEY_ACK",
    "KEY_REFUSED",
    "REALTIME_STEPS",
    "BandMemory",
    "MiBandFirmware",
    "steps_payload",
]

AUTH = "00000009-0000-3512-2118-0009af100700"
REALTIME_STEPS = "00000007-0000-3512-2118-0009af100700"
HR_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"
HR_CONTROL_POINT = "00002a39-0000-1000-8000-00805f9b34fb"
KEY = bytes.fromhex("30313233343536373839404142434445")  # Gadgetbridge InitOperation's key

Notification = tuple[str, bytes]
KEY_ACK = bytes((0x10, 0x01, 0x01))  # Gadgetbridge HuamiService: AUTH_RESPONSE, SEND_KEY, SUCCESS
KEY_REFUSED = bytes((0x10, 0x01, 0x04))  # the same with HuamiService.AUTH_FAIL


@dataclass
class BandMemory:
    """What a band keeps across connections: the key it holds (``None`` when factory-fresh)."""

    key: bytes | None = KEY


def steps_payload(steps_today: int) -> bytes:
    """A 13-byte realtime steps value: header 0x0c, uint16 LE steps, zero distance/calories."""
    return struct.pack("<BH10x", 0x0C, steps_today)


class MiBandFirmware:
    """One connection's worth of band state.

    Parameters
    ----------
    key
        The AES key the band holds, when no ``memory`` is given (``None``: none yet).
    memory
        The band's memory shared by every connection's firmware; first pairing writes to it.
    tap_delay_s
        How long after a key write the wearer taps the band (the delay of the ``10 01 01``
        answer); ``None``: nobody taps, the band never answers.
    accepts_key
        ``False``: the band answers a key write with ``10 01 04`` and keeps what it holds.
    seed
        Seeds the band's random numbers, so runs repeat.
    hr_timeout_s
        Continuous heart rate stops when no ``16`` ping came for this long; ``None`` never.
    clock
        Monotonic seconds, for ``hr_timeout_s``.
    """

    def __init__(
        self,
        *,
        key: bytes | None = KEY,
        memory: BandMemory | None = None,
        tap_delay_s: float | None = 0.0,
        accepts_key: bool = True,
        seed: int = 0,
        hr_timeout_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.memory = memory if memory is not None else BandMemory(key=key)
        self._tap_delay_s = tap_delay_s
        self._accepts_key = accepts_key
        self.keys_received: list[bytes] = []
        self._rng = random.Random(seed)
        self._hr_timeout_s = hr_timeout_s
        self._clock = clock
        self._challenge: bytes | None = None
        self.auth_flags_seen: list[int] = []
        self.authenticated = False
        self.refused = False
        self.hr_continuous = False
        self.last_ping_s = clock()
        self.pings = 0
        self.hr_commands: list[bytes] = []

    def on_write(self, uuid: str, value: bytes) -> list[Notification]:
        """Handle one write; return the notifications the band sends in answer."""
        if uuid == AUTH:
            return self._auth(value)
        if uuid == HR_CONTROL_POINT and self.authenticated:
            self._heart_rate_command(value)
        return []

    def answer_delay_s(self, payload: bytes) -> float:
        """How long after the write the band sends ``payload``: the key's ack waits for the tap."""
        if payload == KEY_ACK and self._tap_delay_s is not None:
            return self._tap_delay_s
        return 0.0

    def streams(self, uuid: str) -> bool:
        """Whether ``uuid`` notifies periodically right now."""
        if not self.authenticated:
            return False
        if uuid == HR_MEASUREMENT:
            if not self.hr_continuous:
                return False
            if self._hr_timeout_s is not None:
                return self._clock() - self.last_ping_s <= self._hr_timeout_s
            return True
        return uuid == REALTIME_STEPS

    def _auth(self, value: bytes) -> list[Notification]:
        if len(value) < 2:  # every auth command carries at least its code and the flags byte
            return []
        command, flags = value[0], value[1]
        self.auth_flags_seen.append(flags)
        if command == 0x01 and len(value) == 18:  # first pairing: take this key
            self.keys_received.append(value[2:])
            if not self._accepts_key:
                return [(AUTH, KEY_REFUSED)]
            if self._tap_delay_s is None:
                return []  # the band waits for a tap that never comes
            self.memory.key = value[2:]
            return [(AUTH, KEY_ACK)]
        if command == 0x02 and len(value) == 2 and self.memory.key is not None:  # random number
            self._challenge = self._rng.randbytes(16)
            return [(AUTH, bytes((0x10, 0x02, 0x01)) + self._challenge)]
        if command == 0x03 and len(value) == 18 and self._challenge is not None:
            assert self.memory.key is not None  # a challenge is only issued with a key
            encryptor = Cipher(algorithms.AES(self.memory.key), modes.ECB()).encryptor()
            expected = encryptor.update(self._challenge) + encryptor.finalize()
            self._challenge = None
            if value[2:] == expected:
                self.authenticated = True
                return [(AUTH, bytes((0x10, 0x03, 0x01)))]
            self.refused = True
            return [(AUTH, bytes((0x10, 0x03, 0x04)))]
        return [(AUTH, bytes((0x10, command, 0x04)))]

    def _heart_rate_command(self, value: bytes) -> None:
        self.hr_commands.append(value)
        if value == b"\x16":
            self.pings += 1
            self.last_ping_s = self._clock()
        elif value[:2] == b"\x15\x01" and len(value) == 3:  # continuous mode on/off
            self.hr_continuous = value[2] == 0x01
            self.last_ping_s = self._clock()
