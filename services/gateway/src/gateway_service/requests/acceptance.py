"""Accepting work in one statement: the requests' status rows and the events that start them.

This is the write of every accepted generation, the gateway's hottest path, so it is one
constant statement sent through the driver. A single statement is atomic on its own; when the
request has a transaction open (an idempotency claim, say) it joins it, so the rows, the events
and the stored response commit together.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from assistant_db import Statements
from assistant_messaging.outbox import Outbox
from gateway_service.models import SCHEMA, messaging
from gateway_service.requests.repository import Kind

ACCEPT = f"""
    WITH staged AS ({Outbox(messaging.outbox).insert_sql(first=4)})
    INSERT INTO {SCHEMA}.requests (id, user_id, kind, status)
    SELECT id, $1, kind, 'accepted' FROM unnest($2::uuid[], $3::text[]) AS r(id, kind)
"""  # noqa: S608 - constant identifiers; values are parameters


async def accept(
    database: Statements,
    user_id: uuid.UUID,
    requests: Sequence[tuple[uuid.UUID, Kind]],
    events: Sequence[dict[str, Any]],
) -> None:
    """Accepts `requests` (id, kind) of `user_id` and stages `events` (`outbox_row`s)."""
    await database.execute(
        ACCEPT,
        user_id,
        [request_id for request_id, _ in requests],
        [kind for _, kind in requests],
        *Outbox.arrays(events),
    )
