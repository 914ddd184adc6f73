"""A bounds-checked little-endian cursor over a notification payload.

Every read checks the remaining length first and raises :class:`PayloadError` naming the
characteristic, the field, the offset and the byte counts, so no parser can raise ``IndexError``
or ``struct.error`` on a short payload.
"""

from __future__ import annotations

from collector.errors import PayloadError

__all__ = ["Payload", "Reader", "bit", "require_length"]

Payload = bytes | bytearray | memoryview
"""What bleak hands a notification callback (``bytearray``) or a test passes (``bytes``)."""


def bit(flags: int, index: int) -> bool:
    """Return whether bit ``index`` (0 = least significant) of ``flags`` is set."""
    return bool((flags >> index) & 1)


class Reader:
    """Read little-endian integers from a payload, front to back, never past its end.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        The notification payload, exactly as received.
    characteristic : str
        Human-readable characteristic name, carried in every error.
    """

    __slots__ = ("_characteristic", "_data", "_offset")

    def __init__(self, data: Payload, *, characteristic: str) -> None:
        self._data = bytes(data)
        self._offset = 0
        self._characteristic = characteristic

    @property
    def offset(self) -> int:
        """Number of bytes consumed so far."""
        return self._offset

    @property
    def remaining(self) -> int:
        """Number of bytes not yet consumed."""
        return len(self._data) - self._offset

    def _take(self, size: int, field: str) -> bytes:
        if self.remaining < size:
            raise PayloadError(
                f"{self._characteristic}: payload too short for {field} "
                f"(needs {size} byte(s) at offset {self._offset}, {self.remaining} left)",
                characteristic=self._characteristic,
                field=field,
                offset=self._offset,
                needed=size,
                length=len(self._data),
            )
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        """Read an unsigned little-endian integer of ``size`` bytes."""
        return int.from_bytes(self._take(size, field), "little", signed=False)

    def sint(self, size: int, field: str) -> int:
        """Read a two's-complement little-endian integer of ``size`` bytes."""
        return int.from_bytes(self._take(size, field), "little", signed=True)

    def u8(self, field: str) -> int:
        """Read a uint8."""
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        """Read a little-endian uint16."""
        return self.uint(2, field)

    def s16(self, field: str) -> int:
        """Read a little-endian sint16."""
        return self.sint(2, field)

    def u24(self, field: str) -> int:
        """Read a little-endian uint24."""
        return self.uint(3, field)

    def u32(self, field: str) -> int:
        """Read a little-endian uint32."""
        return self.uint(4, field)

    def raw(self, size: int, field: str) -> bytes:
        """Read ``size`` bytes verbatim."""
        return self._take(size, field)

    def expect_end(self) -> None:
        """Raise :class:`PayloadError` if bytes remain that the flags did not announce."""
        if self.remaining:
            raise PayloadError(
                f"{self._characteristic}: {self.remaining} byte(s) after the last field "
                f"the flags announce (payload is {len(self._data)} bytes)",
                characteristic=self._characteristic,
                offset=self._offset,
                length=len(self._data),
            )


def require_length(data: Payload, *, expected: int, characteristic: str) -> None:
    """Raise :class:`PayloadError` unless ``data`` is exactly ``expected`` bytes long."""
    if len(data) != expected:
        raise PayloadError(
            f"{characteristic}: expected {expected} bytes, got {len(data)}",
            characteristic=characteristic,
            length=len(data),
            needed=expected,
        )
