"""Keyset pagination over (a timestamp, an id): opaque cursors, and the condition that resumes
a listing after the last row of the previous page."""

import base64
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, tuple_
from sqlalchemy.sql.elements import KeyedColumnElement

Position = tuple[datetime, uuid.UUID]


def encode_cursor(moment: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> Position:
    """Raises ValueError for anything `encode_cursor` did not make."""
    moment, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    return datetime.fromisoformat(moment), uuid.UUID(row_id)


def past(
    moment: KeyedColumnElement[datetime],
    row_id: KeyedColumnElement[uuid.UUID],
    position: Position,
    *,
    descending: bool,
) -> ColumnElement[bool]:
    """Rows after `position` in (moment, id) order, or before it when listing newest first."""
    key = tuple_(moment, row_id)
    return key < tuple_(*position) if descending else key > tuple_(*position)
