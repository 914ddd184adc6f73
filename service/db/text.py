"""Text columns as UTF-8 bytes, for routes that send stored JSON on as it is.

psycopg decodes text into ``str`` and the response encodes it again. For the tens of kilobytes of
a days response, which hold non-ASCII characters (so Python keeps two bytes a character), the two
passes took about 100 µs a request (`rehab bench api`); a cursor from :func:`utf8_cursor` loads
text as the bytes the response needs instead.
"""

from __future__ import annotations

import codecs
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader

__all__ = ["Utf8TextLoader", "utf8_cursor"]

# Encodings whose bytes are passed on unchanged. SQL_ASCII has no declared encoding; psycopg
# itself hands its text over as bytes (psycopg.types.string.TextLoader).
_PASS_THROUGH = frozenset({"utf-8", "ascii"})


class Utf8TextLoader(Loader):
    """Load ``text`` as UTF-8 ``bytes``, transcoding only from a client encoding other than UTF-8."""

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        encoding = self.connection.info.encoding if self.connection else "utf-8"
        self._encoding = None if codecs.lookup(encoding).name in _PASS_THROUGH else encoding

    def load(self, data: Buffer) -> bytes:
        if self._encoding is None:
            return bytes(data)
        return str(data, self._encoding).encode()


def utf8_cursor(conn: AsyncConnection[Any]) -> AsyncCursor[Any]:
    """A cursor of ``conn`` whose text columns load as UTF-8 bytes."""
    cur = conn.cursor()
    cur.adapters.register_loader("text", Utf8TextLoader)
    return cur
