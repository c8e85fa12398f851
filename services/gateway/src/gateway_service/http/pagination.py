"""Opaque cursors for keyset pagination over (created_at, id), as HTTP parameters."""

from assistant_db.keyset import Position, decode_cursor, encode_cursor
from gateway_service.http.problems import Problem

__all__ = ["cursor_position", "encode_cursor"]


def cursor_position(cursor: str) -> Position:
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise Problem(
            422,
            "validation-error",
            "Invalid request",
            "cursor: not a cursor this API returned",
            errors=[
                {"field": "cursor", "rule": "cursor", "message": "not a cursor this API returned"}
            ],
        ) from None
