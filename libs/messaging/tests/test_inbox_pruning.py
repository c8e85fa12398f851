"""The inbox forgets ids handled longer ago than any topic keeps a record, and only those
(against PostgreSQL, in a scratch schema inside the test's rolled-back transaction)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_messaging.consuming.inbox import Inbox
from assistant_messaging.consuming.router import EventRouter
from assistant_messaging.tables import MessagingTables
from assistant_schemas.topics import RETRY_RETENTION, TOPICS_BY_NAME

pytestmark = pytest.mark.stack


@pytest.fixture
def inbox(scratch_messaging_tables: MessagingTables) -> Inbox:
    return Inbox(scratch_messaging_tables.inbox)


async def handled(connection: AsyncConnection, inbox: Inbox, days_ago: float, count: int) -> None:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    rows = [
        {"event_id": uuid.uuid4(), "event_type": "t", "topic": "t", "processed_at": at}
        for _ in range(count)
    ]
    await connection.execute(insert(inbox.table), rows)


async def test_only_ids_handled_before_the_cut_off_are_forgotten_in_batches(
    connection: AsyncConnection, inbox: Inbox
) -> None:
    await handled(connection, inbox, days_ago=10, count=25)
    await handled(connection, inbox, days_ago=1, count=5)
    before = datetime.now(UTC) - timedelta(days=8)
    assert await inbox.prune(connection, before, limit=10) == 10
    assert await inbox.prune(connection, before, limit=10) == 10
    assert await inbox.prune(connection, before, limit=10) == 5
    assert await inbox.prune(connection, before, limit=10) == 0
    kept = (await connection.execute(select(inbox.table.c.processed_at))).scalars().all()
    assert len(kept) == 5
    assert all(at > before for at in kept)


def test_ids_are_kept_as_long_as_the_longest_kept_topic_consumed() -> None:
    usage = TOPICS_BY_NAME["usage.recorded"]
    analytics = EventRouter("analytics", [usage])

    @analytics.handles(usage.events[0])
    async def handle(event: object, context: object) -> None: ...

    assert analytics.longest_retention() == max(usage.retention, RETRY_RETENTION)
    assert EventRouter("none", []).longest_retention() == RETRY_RETENTION
