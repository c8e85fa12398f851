"""Accepting work in one statement: the requests' status rows and the events that start them.

This is the write of every accepted generation, the gateway's hottest path, so it is one
constant statement sent through the driver. A single statement is atomic on its own; when the
request has a transaction open (an idempotency claim, say) it joins it, so the rows, the events
and the stored response commit together. Without one, the acceptances of concurrent requests
are coalesced: one statement, one commit and one outbox notice for all that arrived while the
previous one was being written.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from assistant_db import Statements
from assistant_db.coalescing import Coalescer
from assistant_messaging.outbox import Outbox
from gateway_service.models import SCHEMA, messaging
from gateway_service.requests.repository import Kind

ACCEPT = f"""
    WITH staged AS ({Outbox(messaging.outbox).insert_sql(first=4)})
    INSERT INTO {SCHEMA}.requests (id, user_id, kind, status)
    SELECT id, user_id, kind, 'accepted'
    FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS r(user_id, id, kind)
"""  # noqa: S608 - constant identifiers; values are parameters

# A coalesced statement's most acceptances: far more than arrive during one write.
MAX_COALESCED = 200


@dataclass(frozen=True)
class Acceptance:
    """Requests (id, kind) of one user, and the events (`outbox_row`s) that start them."""

    user_id: uuid.UUID
    requests: Sequence[tuple[uuid.UUID, Kind]]
    events: Sequence[dict[str, Any]]


async def accept_all(database: Statements, acceptances: Sequence[Acceptance]) -> None:
    """Writes `acceptances` in one statement."""
    requests = [
        (acceptance.user_id, request_id, kind)
        for acceptance in acceptances
        for request_id, kind in acceptance.requests
    ]
    await database.execute(
        ACCEPT,
        [user_id for user_id, _, _ in requests],
        [request_id for _, request_id, _ in requests],
        [kind for _, _, kind in requests],
        *Outbox.arrays([event for acceptance in acceptances for event in acceptance.events]),
    )


class Acceptor(Protocol):
    async def accept(self, acceptance: Acceptance) -> None: ...


@dataclass(frozen=True)
class InTransaction:
    """Accepts within the transaction open on `connection`: commit it then."""

    connection: Statements

    async def accept(self, acceptance: Acceptance) -> None:
        await accept_all(self.connection, [acceptance])


class CoalescedAcceptances:
    """Accepts on its own commit, together with whatever other requests are accepting."""

    def __init__(self, database: Callable[[], Awaitable[Statements]]) -> None:
        self._database = database
        self._coalescer: Coalescer[Acceptance, None] = Coalescer(self._write, MAX_COALESCED)

    async def accept(self, acceptance: Acceptance) -> None:
        await self._coalescer.submit(acceptance)

    async def _write(self, acceptances: list[Acceptance]) -> list[None]:
        await accept_all(await self._database(), acceptances)
        return [None] * len(acceptances)
