"""Bluetooth LE link layer: one long-lived scanner, one self-healing link per paired device.

Callbacks from the BLE stack only timestamp and enqueue ``(time.monotonic_ns(), uuid, bytes)``;
everything else happens in tasks. Devices that must be talked to around a connection (a Huami
band's AES handshake and heart-rate keep-alive) plug in :class:`SessionHooks` (:class:`HuamiSession`). The stack is injected (:class:`ClientFactory`), so the state
machine is tested with a fake client and production uses bleak + bleak-retry-connector
(:class:`BleakClientFactory`).
"""

from __future__ import annotations

from collector.link._adverts import AdvertisementBoard
from collector.link._backoff import NO_RETRY, Backoff, BackoffCurve, LinkRetryPolicy
from collector.link._bleak import (
    BleakClientFactory,
    BleakLinkClient,
    BleakScannerSource,
    advertisement_from_bleak,
    close_stale_connection,
)
from collector.link._classify import ErrorClass, classify, make_error, translate_error
from collector.link._client import (
    Advertisement,
    ClientFactory,
    DisconnectedCallback,
    LinkClient,
    NotifyHandler,
    normalise_address,
    normalise_uuid,
)
from collector.link._clock import ClockAnchor
from collector.link._huami import HuamiSession, huami_auth_flags
from collector.link._link import DeviceLink, Notification
from collector.link._session import SessionContext, SessionHooks, next_notification
from collector.link._state import LinkConfig, LinkSnapshot, LinkState

__all__ = [
    "NO_RETRY",
    "Advertisement",
    "AdvertisementBoard",
    "Backoff",
    "BackoffCurve",
    "BleakClientFactory",
    "BleakLinkClient",
    "BleakScannerSource",
    "ClientFactory",
    "ClockAnchor",
    "DeviceLink",
    "DisconnectedCallback",
    "ErrorClass",
    "HuamiSession",
    "LinkClient",
    "LinkConfig",
    "LinkRetryPolicy",
    "LinkSnapshot",
    "LinkState",
    "Notification",
    "NotifyHandler",
    "SessionContext",
    "SessionHooks",
    "advertisement_from_bleak",
    "classify",
    "close_stale_connection",
    "huami_auth_flags",
    "make_error",
    "next_notification",
    "normalise_address",
    "normalise_uuid",
    "translate_error",
]
