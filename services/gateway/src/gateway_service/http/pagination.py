"""Opaque cursors for keyset pagination over (created_at, id), as HTTP parameters."""

from assistant_db.keyset import Position, decode_cursor, encode_cursor
from gateway_service.http.problems import invalid

__all__ = ["cursor_position", "encode_cursor"]


def cursor_position(cursor: str) -> Position:
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise invalid("cursor", "cursor", "not a cursor this API returned") from None
