"""Recording consumed event ids in the same transaction as the handler's writes."""

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(
        self, session: AsyncSession, entries: Sequence[tuple[uuid.UUID, str, str]]
    ) -> set[uuid.UUID]:
        """Inserts (event_id, event_type, topic) rows; returns the ids not seen before.

        The insert takes the unique-index lock, so a concurrent transaction claiming the same
        id waits for this one and then sees it as a duplicate.
        """
        if not entries:
            return set()
        statement = (
            insert(self.table)
            .values([{"event_id": i, "event_type": t, "topic": p} for i, t, p in entries])
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(self.table.c.event_id)
        )
        return set((await session.execute(statement)).scalars())

    async def release(self, session: AsyncSession, event_ids: Collection[uuid.UUID]) -> None:
        """Forgets ids whose handling failed, so their retry is not taken for a duplicate."""
        if event_ids:
            await session.execute(delete(self.table).where(self.table.c.event_id.in_(event_ids)))
