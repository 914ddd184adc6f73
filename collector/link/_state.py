"""Link states, settings and the read-only snapshot each link publishes for the status view."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["LinkConfig", "LinkSnapshot", "LinkState"]


class LinkState(enum.Enum):
    """Where a :class:`~collector.link.DeviceLink` is in its connect–stream–recover cycle."""

    IDLE = "idle"
    WAITING_FOR_ADVERTISEMENT = "waiting_for_advertisement"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    CONFIRMING = "confirming"
    """First pairing: authenticating, and waiting for the wearer to confirm on the device (tap
    the Mi Band)."""
    SUBSCRIBING = "subscribing"
    STREAMING = "streaming"
    BACKING_OFF = "backing_off"
    REFUSED = "refused"
    """The device refused the paired credentials; the link waits, idle, to be stopped."""
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """Deadlines and sizes of one device link.

    Parameters
    ----------
    advertisement_wait_s
        How long to wait for a fresh advertisement before counting "not found", seconds.
    connect_timeout_s
        Outer safety deadline around the whole connect (bleak-retry-connector's own attempts
        included), seconds.
    auth_timeout_s
        Deadline for a device's authentication handshake (Huami bands), seconds; a first pairing
        that waits for the wearer's tap gets the session's ``confirmation_s`` on top.
    subscribe_timeout_s
        Deadline for subscribing to every characteristic and reading the battery, seconds.
    silence_timeout_s
        Watchdog: a link with no notification for this long is torn down and rebuilt, seconds.
    disconnect_timeout_s
        Deadline for a clean disconnect before the link gives up on it, seconds.
    queue_size
        Notifications buffered between the BLE callback and the consumer; beyond it they are
        dropped and counted.
    """

    # bleak-retry-connector scans ~10 s per BlueZ discovery cycle; two cycles; tunable default.
    advertisement_wait_s: float = 20.0
    # bleak_retry_connector.BLEAK_SAFETY_TIMEOUT is 60 s per attempt; we allow its 4 attempts
    # (MAX_CONNECT_ATTEMPTS) at the usual ~20 s each (BLEAK_TIMEOUT); tunable default.
    connect_timeout_s: float = 90.0
    # A Huami band answers each of its two handshake steps within a connection interval or
    # two; unauthenticated links are dropped by the band after about 20 s (miband2auth notes);
    # tunable default.
    auth_timeout_s: float = 10.0
    # Subscribing is a few CCCD writes, well under a second each; tunable default.
    subscribe_timeout_s: float = 20.0
    # Heart rate notifies about once per second (HRS 1.0 §3.1 typical); 30 s of silence means the
    # link is dead even if BlueZ still reports it connected; tunable default.
    silence_timeout_s: float = 30.0
    # bleak_retry_connector.DISCONNECT_TIMEOUT is 5 s; allow twice that; tunable default.
    disconnect_timeout_s: float = 10.0
    # About 17 minutes of 1 Hz notifications from 4 characteristics; tunable default.
    queue_size: int = 4096

    def __post_init__(self) -> None:
        for name in (
            "advertisement_wait_s",
            "connect_timeout_s",
            "auth_timeout_s",
            "subscribe_timeout_s",
            "silence_timeout_s",
            "disconnect_timeout_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.queue_size < 1:
            raise ValueError("queue_size must be at least 1")


@dataclass(frozen=True, slots=True)
class LinkSnapshot:
    """What one link has done so far; cheap to take at any moment.

    Times are ``time.monotonic_ns()`` values or ``None`` when the event has not happened.
    """

    address: str
    name: str
    state: LinkState
    connected: bool
    connects: int
    failures: int
    notifications: int
    dropped: int
    last_notification_ns: int | None
    last_error: str | None
    subscribed: tuple[str, ...]
