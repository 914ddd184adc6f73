"""Table-driven decoding of FTMS data fields, with the "data not available" sentinels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from collector.profiles._reader import Reader

__all__ = ["FieldSpec", "decode_fields"]

# "Data not available" values, FTMS 1.0 field definitions (e.g. Expended Energy,
# Inclination): all-ones for unsigned fields, the largest positive value for signed ones.
_UNSIGNED_SENTINEL = {1: 0xFF, 2: 0xFFFF}
_SIGNED_SENTINEL = {2: 0x7FFF}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One FTMS field: output name, width in bytes, signedness, and raw counts per output unit.

    ``per_unit`` is the inverse of the field's resolution (100 for 0.01 km/h); ``None`` keeps
    the raw integer (resolution 1).
    """

    name: str
    size: int
    signed: bool = False
    per_unit: int | None = None
    zero_is_absent: bool = False

    def sentinel(self) -> int | None:
        """The raw value that means "data not available" for this field, if any."""
        table = _SIGNED_SENTINEL if self.signed else _UNSIGNED_SENTINEL
        return table.get(self.size)


def decode_fields(reader: Reader, specs: Iterable[FieldSpec]) -> dict[str, float | int | None]:
    """Read ``specs`` in order; sentinel values (and 0 where flagged) decode as ``None``."""
    values: dict[str, float | int | None] = {}
    for spec in specs:
        raw = (
            reader.sint(spec.size, spec.name) if spec.signed else reader.uint(spec.size, spec.name)
        )
        if raw == spec.sentinel() or (spec.zero_is_absent and raw == 0):
            values[spec.name] = None
        elif spec.per_unit is None:
            values[spec.name] = raw
        else:
            values[spec.name] = raw / spec.per_unit
    return values
