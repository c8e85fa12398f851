"""Recording consumed event ids in the same transaction as the handler's writes."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Table, delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_db.metadata import quoted_schema


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table
        assert table.schema
        name = f"{quoted_schema(table.schema)}.{table.name}"
        # One constant statement whatever the batch size: compiled once, three array parameters.
        # It answers with the ids already there (usually none), not the thousands it inserted.
        self._claim = text(
            f"WITH claimed AS (INSERT INTO {name}"  # noqa: S608 - validated
            " (event_id, event_type, topic)"
            " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[]),"
            " CAST(:topics AS text[]))"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id)"
            " SELECT id FROM unnest(CAST(:ids AS uuid[])) AS batch(id)"
            " WHERE id NOT IN (SELECT event_id FROM claimed)"
        )
        # No index on processed_at: the oldest rows are the first in the heap, so a scan that
        # stops at `limit` matches is short whenever there is something to prune.
        self._prune = text(
            f"DELETE FROM {name} WHERE ctid IN (SELECT ctid FROM {name}"  # noqa: S608
            " WHERE processed_at < :before LIMIT :limit)"
        )

    async def claim(
        self, session: AsyncSession, entries: Sequence[tuple[uuid.UUID, str, str]]
    ) -> set[uuid.UUID]:
        """Inserts (event_id, event_type, topic) rows; returns the ids not seen before.

        The insert takes the unique-index lock, so a concurrent transaction claiming the same
        id waits for this one and then sees it as a duplicate.
        """
        if not entries:
            return set()
        ids, types, topics = zip(*entries, strict=True)
        result = await session.execute(
            self._claim, {"ids": list(ids), "types": list(types), "topics": list(topics)}
        )
        return set(ids) - set(result.scalars())

    async def release(self, session: AsyncSession, event_ids: Collection[uuid.UUID]) -> None:
        """Forgets ids whose handling failed, so their retry is not taken for a duplicate."""
        if event_ids:
            await session.execute(delete(self.table).where(self.table.c.event_id.in_(event_ids)))

    async def prune(self, connection: AsyncConnection, before: datetime, limit: int) -> int:
        """Forgets up to `limit` ids handled before `before`; returns how many."""
        result = await connection.execute(self._prune, {"before": before, "limit": limit})
        return int(result.rowcount or 0)
