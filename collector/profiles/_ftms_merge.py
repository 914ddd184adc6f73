"""Joining FTMS data fragments ("More Data", FTMS 1.0) into whole records."""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

from collector.profiles._ftms_records import IndoorBikeData, TreadmillData

__all__ = ["FtmsFragmentMerger"]

RecordT = TypeVar("RecordT", IndoorBikeData, TreadmillData)


def _present(record: IndoorBikeData | TreadmillData) -> dict[str, Any]:
    """The fields of ``record`` that carry a value, apart from the ``more_data`` flag."""
    return {
        field.name: getattr(record, field.name)
        for field in dataclasses.fields(record)
        if field.name != "more_data" and getattr(record, field.name) is not None
    }


class FtmsFragmentMerger(Generic[RecordT]):
    """Merge FTMS fragments until a frame with bit 0 ("More Data") clear completes the record.

    Feed every decoded notification of one characteristic, in arrival order, to :meth:`feed`.
    A fragment (``more_data=True``) is held; the next frame adds its fields; a frame with
    ``more_data=False`` completes the record, which is returned with ``more_data=False``.

    Each field appears in only one fragment of a record (FTMS 1.0, "More Data" flag). A
    fragment that repeats a field already held therefore starts a new record: the held one is
    returned first,
    still marked ``more_data=True`` so the consumer can tell it never saw its final fragment.
    This also keeps machines that set "More Data" on every frame from being held forever: each
    frame is then returned one notification late. The merger holds at most one record.
    """

    def __init__(self) -> None:
        self._pending: RecordT | None = None

    @property
    def pending(self) -> RecordT | None:
        """The fragments held so far, merged, or ``None``."""
        return self._pending

    def feed(self, frame: RecordT) -> tuple[RecordT, ...]:
        """Add one decoded frame; return the records it completes (zero, one or two)."""
        completed: list[RecordT] = []
        fields = _present(frame)
        pending = self._pending
        if pending is not None and set(fields) & set(_present(pending)):
            completed.append(pending)
            pending = None
        merged = (
            frame
            if pending is None
            else dataclasses.replace(pending, more_data=frame.more_data, **fields)
        )
        if merged.more_data:
            self._pending = merged
        else:
            self._pending = None
            completed.append(merged)
        return tuple(completed)

    def flush(self) -> RecordT | None:
        """Return and forget the held fragments (e.g. on disconnect), or ``None``."""
        pending, self._pending = self._pending, None
        return pending
