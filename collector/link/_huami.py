"""The Huami Mi Band 2 / 3 session: AES handshake, realtime steps, heart rate and its keep-alive.

On every connection (Gadgetbridge ``InitOperation``; creotiv/MiBand2 ``base.py``):

1. subscribe to the auth characteristic ``00000009-0000-3512-2118-0009af100700`` (service
   0xFEE1) and run :class:`~collector.profiles.huami.HuamiAuth` over it. On first pairing only
   (a band that holds no key yet): write ``01 <flags> <key>`` and wait up to
   :data:`~collector.profiles.huami.PAIRING_TAP_TIMEOUT_S` for the wearer to tap the band,
   which then answers ``10 01 01``; the caller is told, so later connections skip this. Then
   write ``02 <flags>``, receive ``10 02 01`` and a 16-byte random number, write ``03 <flags>`` and the number
   encrypted with AES-128-ECB under the user's key, receive ``10 03 01``;
2. the link subscribes to realtime steps (``00000007-…``) and Heart Rate Measurement (0x2A37);
3. write the heart-rate start commands to the Heart Rate Control Point (0x2A39): stop manual,
   stop continuous, start continuous (creotiv/MiBand2 ``start_heart_rate_realtime``; Gadgetbridge
   ``HuamiSupport.onEnableRealtimeHeartRateMeasurement`` subscribes first, then writes);
4. while connected, write the ``16`` ping to the control point every
   :data:`~collector.profiles.huami.HR_KEEPALIVE_INTERVAL_S` seconds (creotiv pings every 12 s,
   Gadgetbridge from its realtime-samples timer), or the band ends continuous measurement.

Writes let bleak pick the write type from the characteristic's properties (with response when
offered): creotiv writes the auth characteristic without response and the control point with.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from collector.errors import DeviceError, GattOperationError, PayloadError
from collector.link._classify import make_error
from collector.link._session import SessionContext, next_notification
from collector.profiles.heart_rate import (
    HEART_RATE_CONTROL_POINT_UUID,
    HEART_RATE_MEASUREMENT_UUID,
)
from collector.profiles.huami import (
    HR_KEEPALIVE_COMMAND,
    HR_KEEPALIVE_INTERVAL_S,
    HR_START_COMMANDS,
    HUAMI_AUTH_CHARACTERISTIC_UUID,
    HUAMI_REALTIME_STEPS_UUID,
    MI_BAND_2_AUTH_FLAGS,
    MI_BAND_3_AUTH_FLAGS,
    PAIRING_TAP_TIMEOUT_S,
    HuamiAuth,
    HuamiAuthError,
    HuamiAuthPhase,
    HuamiPairingError,
)

__all__ = ["HuamiSession", "huami_auth_flags"]

_LOG = logging.getLogger("collector.link")

# Gadgetbridge MiBand3Coordinator: the Mi Band 3 advertises "Mi Band 3" (also "Mi Band 3i").
_MI_BAND_3_NAME = re.compile(r"^mi\s*band\s*3", re.IGNORECASE)
# The handshake takes three answers; anything queued beyond a few is noise; tunable default.
_AUTH_QUEUE_SIZE = 8


def huami_auth_flags(advertised_name: str | None) -> int:
    """The auth flags byte for a band, told apart by its advertised name.

    ``0x00`` for a Mi Band 3 (Gadgetbridge ``MiBand3Support.getAuthFlags``), else ``0x08``, the
    Mi Band 2 value (Gadgetbridge ``HuamiService.AUTH_BYTE``).
    """
    if advertised_name is not None and _MI_BAND_3_NAME.match(advertised_name.strip()):
        return MI_BAND_3_AUTH_FLAGS
    return MI_BAND_2_AUTH_FLAGS


def _refusal(error: HuamiAuthError, context: SessionContext, *, pairing: bool) -> DeviceError:
    """The band's refusal of a step, with the address and advice for the log."""
    step, status = error.fields.get("step", 0), error.fields.get("status", 0)
    kind = HuamiPairingError if pairing else HuamiAuthError
    what = "the new auth key" if pairing else "the auth key"
    return make_error(
        kind,
        f"{context.address}: the band refused {what} (step {step:#04x}, status {status:#04x})",
        address=context.address,
        **error.fields,
    )


class HuamiSession:
    """Session hooks for a Huami band: its key, and whether the band holds it yet.

    Parameters
    ----------
    key
        The band's 16-byte AES key (``collector.profiles.huami.parse_auth_key``, or
        ``new_auth_key`` for a band that holds none yet).
    key_on_band
        ``False`` on first pairing: the next connection writes the key to the band
        (``01 <flags> <key>``) and waits up to ``tap_timeout_s`` for the wearer to tap the band.
    on_key_written
        Awaited once the band acknowledged the new key (``10 01 01``), so the caller can record
        that later connections need the ``02``/``03`` handshake only; it must not raise.
    tap_timeout_s
        How long the first pairing waits for the tap, seconds.
    keepalive_interval_s
        Period of the heart-rate ping, seconds.

    Attributes
    ----------
    keepalives : int
        Pings written so far, over every connection.
    """

    def __init__(
        self,
        *,
        key: bytes,
        key_on_band: bool = True,
        on_key_written: Callable[[], Awaitable[None]] | None = None,
        tap_timeout_s: float = PAIRING_TAP_TIMEOUT_S,
        keepalive_interval_s: float = HR_KEEPALIVE_INTERVAL_S,
    ) -> None:
        HuamiAuth(key=key)  # validates the key length once, here rather than mid-connection
        if keepalive_interval_s <= 0:
            raise ValueError("keepalive_interval_s must be positive")
        if tap_timeout_s <= 0:
            raise ValueError("tap_timeout_s must be positive")
        self._key = key
        self._key_on_band = key_on_band
        self._on_key_written = on_key_written
        self._tap_timeout_s = tap_timeout_s
        self._keepalive_interval_s = keepalive_interval_s
        self.keepalives = 0

    @property
    def key_on_band(self) -> bool:
        """Whether the band holds the key (``False`` until a first pairing was confirmed)."""
        return self._key_on_band

    @property
    def confirmation_s(self) -> float:
        """Extra time the next handshake may take: the wait for the tap on first pairing."""
        return 0.0 if self._key_on_band else self._tap_timeout_s

    @property
    def notify_uuids(self) -> tuple[str, ...]:
        """Realtime steps and heart rate, which flow only after the handshake."""
        return (HUAMI_REALTIME_STEPS_UUID, HEART_RATE_MEASUREMENT_UUID)

    @property
    def read_uuids(self) -> tuple[str, ...]:
        """Today's steps, read once per connection so the counter has a fresh reference."""
        return (HUAMI_REALTIME_STEPS_UUID,)

    async def authenticate(self, context: SessionContext) -> None:
        """Run the AES handshake on the auth characteristic, writing the key first if needed.

        Raises
        ------
        HuamiPairingError
            First pairing: the band refused the new key or was not tapped within
            ``tap_timeout_s``; classified ``CREDENTIALS``, never retried. The key stays
            unwritten.
        HuamiAuthError
            The band refused a step (a wrong key): classified ``CREDENTIALS``, never retried.
        GattOperationError
            The device has no auth characteristic or answered out of protocol.
        DeviceDisconnectedError
            The band dropped the link mid-handshake.
        """
        client = context.client
        if HUAMI_AUTH_CHARACTERISTIC_UUID not in client.characteristic_uuids():
            raise make_error(
                GattOperationError,
                f"{context.address}: no Huami auth characteristic; is this a Mi Band 2/3?",
                address=context.address,
            )
        answers: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_AUTH_QUEUE_SIZE)

        def on_answer(data: bytearray) -> None:
            # Runs in the BLE stack's callback: enqueue, nothing else.
            if not answers.full():
                answers.put_nowait(bytes(data))

        await client.start_notify(HUAMI_AUTH_CHARACTERISTIC_UUID, on_answer)
        flags = huami_auth_flags(context.advertisement.name)
        auth, first = HuamiAuth(
            key=self._key, auth_flags=flags, send_key=not self._key_on_band
        ).start()
        command: bytes | None = first
        while command is not None:
            awaiting_tap = auth.phase is HuamiAuthPhase.AWAIT_KEY_ACK
            await client.write(HUAMI_AUTH_CHARACTERISTIC_UUID, command)
            if awaiting_tap:
                _LOG.warning(
                    "%s: new auth key sent; tap the band to confirm pairing (within %g s)",
                    context.name,
                    self._tap_timeout_s,
                )
                answer = await self._tap(answers, context)
            else:
                answer = await next_notification(answers, context)
            try:
                auth, command = auth.receive(answer)
            except HuamiAuthError as exc:
                raise _refusal(exc, context, pairing=awaiting_tap) from exc
            except PayloadError as exc:
                raise make_error(
                    GattOperationError,
                    f"{context.address}: unexpected Huami auth answer {answer.hex()}: {exc}",
                    address=context.address,
                ) from exc
            if awaiting_tap:
                await self._key_written(context)
        _LOG.info("%s: authenticated (auth flags %#04x)", context.name, flags)

    async def _tap(self, answers: asyncio.Queue[bytes], context: SessionContext) -> bytes:
        """The band's answer to the key write, which comes once the wearer tapped the band."""
        try:
            async with asyncio.timeout(self._tap_timeout_s):
                return await next_notification(answers, context)
        except TimeoutError as exc:
            raise make_error(
                HuamiPairingError,
                f"{context.address}: the band was not tapped within {self._tap_timeout_s:g} s "
                "to confirm pairing",
                address=context.address,
            ) from exc

    async def _key_written(self, context: SessionContext) -> None:
        self._key_on_band = True
        _LOG.info("%s: pairing confirmed, the band holds the new auth key", context.name)
        if self._on_key_written is not None:
            await self._on_key_written()

    async def start_streams(self, context: SessionContext) -> None:
        """Write the continuous heart-rate start commands, when the band has a control point."""
        if HEART_RATE_CONTROL_POINT_UUID not in context.client.characteristic_uuids():
            _LOG.warning("%s: no heart-rate control point; steps only", context.name)
            return
        for command in HR_START_COMMANDS:
            await context.client.write(HEART_RATE_CONTROL_POINT_UUID, command)

    async def keep_alive(self, context: SessionContext) -> None:
        """Ping the control point every ``keepalive_interval_s`` while the link is up."""
        if HEART_RATE_CONTROL_POINT_UUID not in context.client.characteristic_uuids():
            return
        while True:
            await asyncio.sleep(self._keepalive_interval_s)
            try:
                await context.client.write(HEART_RATE_CONTROL_POINT_UUID, HR_KEEPALIVE_COMMAND)
            except DeviceError:
                if not context.client.is_connected:
                    return  # the link's watchdog reports the drop
                raise
            self.keepalives += 1
