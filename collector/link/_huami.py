"""The Huami Mi Band 2 / 3 session: AES handshake, realtime steps, heart rate and its keep-alive.

On every connection (Gadgetbridge ``InitOperation``; creotiv/MiBand2 ``base.py``):

1. subscribe to the auth characteristic ``00000009-0000-3512-2118-0009af100700`` (service
   0xFEE1) and run :class:`~collector.profiles.huami.HuamiAuth` over it: write ``02 <flags>``,
   receive ``10 02 01`` and a 16-byte random number, write ``03 <flags>`` and the number
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

from collector.errors import DeviceError, GattOperationError, PayloadError
from collector.link._classify import ErrorClass, advice_for, make_error
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
    HuamiAuth,
    HuamiAuthError,
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


class HuamiSession:
    """Session hooks for a Huami band that already holds the user's key.

    Parameters
    ----------
    key
        The band's 16-byte AES key (``collector.profiles.huami.parse_auth_key``).
    keepalive_interval_s
        Period of the heart-rate ping, seconds.

    Attributes
    ----------
    keepalives : int
        Pings written so far, over every connection.
    """

    def __init__(
        self, *, key: bytes, keepalive_interval_s: float = HR_KEEPALIVE_INTERVAL_S
    ) -> None:
        HuamiAuth(key=key)  # validates the key length once, here rather than mid-connection
        if keepalive_interval_s <= 0:
            raise ValueError("keepalive_interval_s must be positive")
        self._key = key
        self._keepalive_interval_s = keepalive_interval_s
        self.keepalives = 0

    @property
    def notify_uuids(self) -> tuple[str, ...]:
        """Realtime steps and heart rate, which flow only after the handshake."""
        return (HUAMI_REALTIME_STEPS_UUID, HEART_RATE_MEASUREMENT_UUID)

    @property
    def read_uuids(self) -> tuple[str, ...]:
        """Today's steps, read once per connection so the counter has a fresh reference."""
        return (HUAMI_REALTIME_STEPS_UUID,)

    async def authenticate(self, context: SessionContext) -> None:
        """Run the AES handshake on the auth characteristic.

        Raises
        ------
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
        auth, first = HuamiAuth(key=self._key, auth_flags=flags).start()
        command: bytes | None = first
        while command is not None:
            await client.write(HUAMI_AUTH_CHARACTERISTIC_UUID, command)
            answer = await next_notification(answers, context)
            try:
                auth, command = auth.receive(answer)
            except HuamiAuthError as exc:
                raise HuamiAuthError(
                    f"{context.address}: the band refused the auth key "
                    f"(step {exc.fields.get('step', 0):#04x}, status "
                    f"{exc.fields.get('status', 0):#04x})",
                    address=context.address,
                    error_class=ErrorClass.CREDENTIALS,
                    advice=advice_for(HuamiAuthError),
                    **exc.fields,
                ) from exc
            except PayloadError as exc:
                raise make_error(
                    GattOperationError,
                    f"{context.address}: unexpected Huami auth answer {answer.hex()}: {exc}",
                    address=context.address,
                ) from exc
        _LOG.info("%s: authenticated (auth flags %#04x)", context.name, flags)

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
