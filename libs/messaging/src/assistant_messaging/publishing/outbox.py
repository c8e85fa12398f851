"""Writing events in the same transaction as the business rows that caused them."""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_db.metadata import quoted_schema
from assistant_messaging.kafka import headers as h
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
        assert table.schema
        self.table = table
        self.qualified_name = f"{quoted_schema(table.schema)}.{table.name}"
        self._insert = (
            f"INSERT INTO {self.qualified_name} (event_id, topic, key, headers, payload)"  # noqa: S608 - validated identifiers
            " SELECT event_id, topic, key, headers, payload"
            " FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::jsonb[], $5::bytea[])"
            " WITH ORDINALITY AS e(event_id, topic, key, headers, payload, n) ORDER BY n"
        )

    @staticmethod
    def arrays(rows: Sequence[Mapping[str, Any]]) -> tuple[list[Any], ...]:
        """`outbox_row`s as five arrays (ids, topics, keys, headers, payloads): one constant
        statement inserts them whatever their number (the driver encodes arrays in C, where a
        multi-row insert is built row by row in Python), in order, so their ids (the relay's
        order) follow it."""
        return (
            [row["event_id"] for row in rows],
            [row["topic"] for row in rows],
            [row["key"] for row in rows],
            [to_json(row["headers"]).decode() for row in rows],
            [row["payload"] for row in rows],
        )

    async def add(
        self,
        session: Transaction,
        event: Envelope[Any],
        *,
        topic: Topic | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        await self._stage(session, [outbox_row(event, topic, headers)])

    async def add_all(
        self, session: Transaction, events: Sequence[Envelope[Any]], *, topic: Topic | None = None
    ) -> None:
        """Stages many events in one statement; `topic` overrides the registry's choice."""
        if events:
            await self._stage(session, [outbox_row(event, topic) for event in events])

    async def _stage(self, session: Transaction, rows: list[dict[str, Any]]) -> None:
        connection = session if isinstance(session, AsyncConnection) else await session.connection()
        await connection.exec_driver_sql(self._insert, self.arrays(rows))
