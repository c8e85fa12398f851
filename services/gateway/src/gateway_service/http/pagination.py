"""Opaque cursors for keyset pagination over (created_at, id)."""

import base64
import uuid
from datetime import datetime

from gateway_service.http.problems import Problem


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
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
