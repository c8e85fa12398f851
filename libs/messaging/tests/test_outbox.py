"""Staging events in the outbox, against PostgreSQL (a scratch schema made and dropped inside
the test's rolled-back transaction)."""

import json
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_messaging.publishing.outbox import Outbox
from assistant_messaging.tables import MessagingTables
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountDeletedPayload, AccountDeletedV1
from assistant_schemas.topics import Topic

pytestmark = pytest.mark.stack


@pytest.fixture
def outbox(scratch_messaging_tables: MessagingTables) -> Outbox:
    return Outbox(scratch_messaging_tables.outbox)


def deleted(user_id: uuid.UUID) -> AccountDeletedV1:
    return new_event(
        AccountDeletedV1,
        AccountDeletedPayload(reason="user_request"),
        correlation_id=f"c-{user_id}",
        producer="test",
        user_id=user_id,
    )


async def test_many_events_are_staged_in_their_order_with_key_headers_and_payload(
    connection: AsyncConnection, outbox: Outbox
) -> None:
    events = [deleted(uuid.uuid4()) for _ in range(300)]
    topic = Topic("test.accounts", "a test topic", (AccountDeletedV1,), key=("user_id",))
    await outbox.add_all(connection, events, topic=topic)
    table = outbox.table
    rows = (await connection.execute(select(table).order_by(table.c.id))).all()
    assert [row.event_id for row in rows] == [event.event_id for event in events]
    first, row = events[0], rows[0]
    assert row.topic == "test.accounts"
    assert bytes(row.key) == str(first.user_id).encode()
    assert row.headers["event-id"] == str(first.event_id)
    assert row.headers["event-type"] == first.type
    assert json.loads(bytes(row.payload)) == json.loads(first.to_json())


async def test_an_event_without_a_key_is_staged_with_none(
    connection: AsyncConnection, outbox: Outbox
) -> None:
    unkeyed = Topic("test.unkeyed", "a test topic", (AccountDeletedV1,), key=())
    await outbox.add_all(connection, [deleted(uuid.uuid4())], topic=unkeyed)
    key = await connection.scalar(select(outbox.table.c.key))
    assert key is None
