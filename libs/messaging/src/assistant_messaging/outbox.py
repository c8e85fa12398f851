"""Writing events in the same transaction as the business rows that caused them."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_messaging import headers as h
from assistant_schemas import Envelope
from assistant_schemas.topics import Topic, topic_for_event


def envelope_headers(event: Envelope[Any]) -> dict[str, str]:
    return {
        h.EVENT_ID: str(event.event_id),
        h.EVENT_TYPE: event.type,
        h.EVENT_VERSION: str(event.version),
        h.CORRELATION_ID: event.correlation_id,
    }


def outbox_row(
    event: Envelope[Any], topic: Topic | None = None, extra_headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    destination = topic or topic_for_event(event)
    return {
        "event_id": event.event_id,
        "topic": destination.name,
        "key": destination.key_for(event),
        "headers": {**envelope_headers(event), **(extra_headers or {})},
        "payload": event.to_json(),
    }


# An ORM session or, for hot paths, a Core connection: both take part in the caller's transaction.
Transaction = AsyncSession | AsyncConnection


class Outbox:
    """`add` stages events; they reach Kafka only if the surrounding transaction commits."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def add(
        self,
        session: Transaction,
        event: Envelope[Any],
        *,
        topic: Topic | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        await session.execute(insert(self.table).values(outbox_row(event, topic, headers)))

    async def add_all(
        self, session: Transaction, events: Sequence[Envelope[Any]], *, topic: Topic | None = None
    ) -> None:
        """Stages many events in one statement; `topic` overrides the registry's choice."""
        if events:
            rows = [outbox_row(event, topic) for event in events]
            await session.execute(insert(self.table), rows)
