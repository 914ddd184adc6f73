"""One millisecond per sample: keeps two devices of one hub from sharing a natural key.

The service stores one sample per (device token, kind, time) at millisecond precision
(``service/ingest/WIRE_FORMAT.md``, "Natural keys") and counts a second sample with the same key
as a duplicate. A hub pairs several Bluetooth devices under one token, and their notifications
often reach the collector in the same millisecond (a heart-rate band and a watch both notifying,
or a busy event loop stamping queued callbacks back to back). Without care, one of the two
samples would be dropped by the service as a "duplicate". :class:`DistinctTimes` moves a sample
whose millisecond is already taken, for its kind, to the next free millisecond: a shift of a few
milliseconds on 1 Hz data, against a lost sample.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Sequence

from collector.wire import Sample

__all__ = ["DistinctTimes"]

_MS_PER_S = 1000  # milliseconds per second (SI); the wire format's time precision
# Times are remembered this long after the newest one. A link's queue holds about 17 minutes of
# notifications (LinkConfig.queue_size), so a late consumer still sees every recent claim; 20
# minutes of 1 Hz samples from ten devices is 12,000 remembered times per kind; tunable default.
_DEFAULT_WINDOW_S = 1200.0


class DistinctTimes:
    """Assigns every sample of one kind a millisecond no other sample of that kind holds.

    Parameters
    ----------
    window_s
        How long a claimed millisecond is remembered behind the newest claim of its kind, seconds.
        Samples older than that are passed through unchanged.
    """

    def __init__(self, *, window_s: float = _DEFAULT_WINDOW_S) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self._window_ms = round(window_s * _MS_PER_S)
        self._claimed: dict[type, set[int]] = {}
        self._order: dict[type, deque[int]] = {}
        self._newest: dict[type, int] = {}
        self.moved = 0

    def assign(self, samples: Sequence[Sample]) -> list[Sample]:
        """Return ``samples`` with each time on a millisecond of its own for its kind."""
        return [self._assign(sample) for sample in samples]

    def _assign(self, sample: Sample) -> Sample:
        kind = type(sample)
        claimed = self._claimed.setdefault(kind, set())
        order = self._order.setdefault(kind, deque())
        ms = round(sample.t_s * _MS_PER_S)
        newest = max(self._newest.get(kind, ms), ms)
        if ms < newest - self._window_ms:
            return sample
        original = ms
        while ms in claimed:
            ms += 1
        claimed.add(ms)
        order.append(ms)
        self._newest[kind] = max(newest, ms)
        threshold = self._newest[kind] - self._window_ms
        while order and order[0] < threshold:
            claimed.discard(order.popleft())
        if ms == original:
            return sample
        self.moved += 1
        return dataclasses.replace(sample, t_s=ms / _MS_PER_S)
