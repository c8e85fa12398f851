"""The save's unit of work on PostgreSQL and its in-memory fake, step for step the same: what
the unit tests of `saving` learn from the fake holds for the real one."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select

from assistant_db import create_engine
from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import new_event
from assistant_schemas.notion import NotionPageFailedPayload, NotionPageFailedV1
from notion_sync_fakes import FakeSaves
from notion_sync_service.models import messaging, notion_connections, notion_pages
from notion_sync_service.pages import PageRecord
from notion_sync_service.unit_of_work import PageTaken, PostgresSaves, SaveStep, SaveUnits

pytestmark = pytest.mark.stack


@dataclasses.dataclass(frozen=True)
class Backend:
    """A unit of work, and the user it knows a token for."""

    units: SaveUnits
    user_id: uuid.UUID


@pytest.fixture(params=["postgres", "fake"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    user_id = uuid.uuid4()
    if request.param == "fake":
        yield Backend(FakeSaves(tokens={user_id: "ciphertext"}), user_id)
        return
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
    async with engine.begin() as connection:
        await connection.execute(
            insert(notion_connections).values(user_id=user_id, token_ciphertext="ciphertext")
        )
    try:
        yield Backend(PostgresSaves(engine, Outbox(messaging.outbox)), user_id)
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(notion_pages).where(notion_pages.c.user_id == user_id))
            await connection.execute(
                delete(notion_connections).where(notion_connections.c.user_id == user_id)
            )
        await engine.dispose()


async def opened(
    step: SaveStep, request_id: uuid.UUID, title: str, user_id: uuid.UUID
) -> PageRecord:
    return await step.open_for_writing(
        request_id=request_id,
        user_id=user_id,
        source_request_id=None,
        title=title,
        parent_id="parent",
    )


def shown(record: Any) -> dict[str, Any] | None:
    """A record, with when creates began reduced to whether they did."""
    if record is None:
        return None
    fields = dataclasses.asdict(record)
    fields["creating_since"] = fields["creating_since"] is not None
    return fields


async def test_each_step_reads_back_what_the_last_wrote(backend: Backend) -> None:
    one, other = uuid.uuid4(), uuid.uuid4()
    async with backend.units.open() as unit:
        assert await unit.lock(one)
        async with unit.step() as step:
            first = await opened(step, one, "One", backend.user_id)
            await opened(step, other, "Other", backend.user_id)
            assert await step.token_ciphertext(backend.user_id) == "ciphertext"
            assert await step.token_ciphertext(uuid.uuid4()) is None
        async with unit.step() as step:
            again = await opened(step, one, "One", backend.user_id)
            await step.creating(one)
            await step.created(one, "page-1", "https://notion.so/page-1", 1, 2)
        with pytest.raises(PageTaken):
            async with unit.step() as step:
                await step.created(other, "page-1", "https://notion.so/page-1", 0, 1)
        async with unit.step() as step:
            owned = await step.mapped(["page-1", "page-2"])
            await step.appended(one, 3, 4)
            await step.paused(one, in_doubt=True, api_calls=5)
            paused = await step.find(one)
            reports = [await step.take_unreported_calls(one), await step.take_unreported_calls(one)]
            await step.synced(one, 7)
            reports.append(await step.take_unreported_calls(one))
            synced = await step.find(one)
            await step.failed(uuid.uuid4(), "never recorded", retryable=True, api_calls=0)
            reports.append(await step.take_unreported_calls(uuid.uuid4()))
            await step.failed(other, "no parent", retryable=False, api_calls=1)
        await unit.unlock(one)

    base = {"title": "One", "parent_id": "parent", "page_id": None, "url": None}
    assert shown(first) == {
        **base, "request_id": one, "status": "writing", "creating_since": False, "appended": 0,
        "in_doubt": False, "api_calls": 0,
    }  # fmt: skip
    assert shown(again) == {**(shown(first) or {}), "in_doubt": True}
    page = {"page_id": "page-1", "url": "https://notion.so/page-1", "creating_since": True}
    assert shown(paused) == {
        **base, **page, "request_id": one, "status": "writing", "appended": 3, "in_doubt": True,
        "api_calls": 5,
    }  # fmt: skip
    ended = {"status": "synced", "in_doubt": False, "api_calls": 7}
    assert shown(synced) == {**(shown(paused) or {}), **ended}
    assert owned == {"page-1"}
    assert reports == [(5, 0), None, (2, 1), None]


async def test_a_step_that_fails_writes_and_publishes_nothing(backend: Backend) -> None:
    request_id = uuid.uuid4()
    failed = NotionPageFailedPayload(request_id=request_id, reason="x", retryable=False)
    event = new_event(NotionPageFailedV1, failed, correlation_id="c", producer="test")
    async with backend.units.open() as unit:

        async def broken_step() -> None:
            async with unit.step() as step:
                await opened(step, request_id, "t", backend.user_id)
                await step.publish(event)
                raise RuntimeError("the step breaks")

        with pytest.raises(RuntimeError):
            await broken_step()
        async with unit.step() as step:
            assert await step.find(request_id) is None
    assert await published(backend, event.event_id) == 0


async def published(backend: Backend, event_id: uuid.UUID) -> int:
    if isinstance(backend.units, FakeSaves):
        return sum(1 for event in backend.units.published if event.event_id == event_id)
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
    async with engine.connect() as connection:
        found = await connection.scalar(
            select(func.count())
            .select_from(messaging.outbox)
            .where(messaging.outbox.c.event_id == event_id)
        )
    await engine.dispose()
    return found or 0
