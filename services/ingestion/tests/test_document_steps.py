"""The document jobs' unit of work on PostgreSQL and its in-memory fake, step for step the
same: what the unit tests of `ingesting` learn from the fake holds for the real one."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select

from assistant_db import create_engine
from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import new_event
from assistant_schemas.documents import (
    BlobReference,
    DocumentDeletedPayload,
    DocumentDeletedV1,
    DocumentUploadedPayload,
    collection_id,
)
from ingestion_fakes import INDEX, FakeDocuments
from ingestion_service.models import collections, documents, messaging
from ingestion_service.unit_of_work import DocumentUnits, PostgresDocuments

pytestmark = pytest.mark.stack


@pytest.fixture(params=["postgres", "fake"])
async def units(request: pytest.FixtureRequest) -> AsyncIterator[DocumentUnits]:
    if request.param == "fake":
        yield FakeDocuments()
        return
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
    try:
        yield PostgresDocuments(engine, Outbox(messaging.outbox))
    finally:
        async with engine.begin() as connection:  # the test's users are new: theirs only
            await connection.execute(delete(documents).where(documents.c.filename == FILENAME))
            await connection.execute(delete(collections).where(collections.c.name == COLLECTION))
        await engine.dispose()


FILENAME, COLLECTION = "unit-of-work.txt", "unit-of-work-tests"


def upload(user_id: uuid.UUID, sha256: str) -> DocumentUploadedPayload:
    return DocumentUploadedPayload(
        document_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        collection_id=collection_id(user_id, COLLECTION),
        filename=FILENAME,
        blob=BlobReference(
            uri=f"blob://{user_id}/{sha256}", sha256=sha256, size_bytes=1, content_type="text/plain"
        ),
        metadata={"collection": COLLECTION},
    )


async def test_each_step_reads_back_what_the_last_wrote(units: DocumentUnits) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    first, same_bytes, other = upload(ada, "a" * 64), upload(ada, "a" * 64), upload(ada, "b" * 64)
    bobs = upload(bob, "a" * 64)
    async with units.step() as step:
        claimed = [await step.claim(ada, u) for u in (first, same_bytes, other)]
        await step.claim(bob, bobs)
        assert await step.indexed(
            first.document_id,
            [],
            index=INDEX,
            language="english",
            content_type="text/plain",
            title=None,
        )
        assert not await step.indexed(
            first.document_id,
            [],
            index=INDEX,
            language="english",
            content_type="text/plain",
            title=None,
        )
        await step.failed(other.document_id, "parsing", "unreadable", False)
        failed = await step.claim(ada, other)
        await step.reopen(other.document_id, same_bytes.request_id)
        reopened = await step.claim(ada, other)
        statuses = [await step.status_of(u.document_id) for u in (first, other, same_bytes)]
        removed = [
            await step.remove(bob, first.document_id),  # not bob's
            await step.remove(ada, other.document_id),
        ]
        left = await step.remove_all(ada)
        gone = await step.status_of(first.document_id)
        kept = await step.status_of(bobs.document_id)

    assert [(d.id, d.request_id, d.status, d.chunk_count) for d in claimed] == [
        (first.document_id, first.request_id, "processing", 0),
        (first.document_id, first.request_id, "processing", 0),  # the same bytes: one document
        (other.document_id, other.request_id, "processing", 0),
    ]
    assert (failed.status, reopened.status, reopened.request_id) == (
        "failed", "processing", same_bytes.request_id,
    )  # fmt: skip
    assert statuses == ["ingested", "processing", None]
    assert removed == [None, other.blob.uri]
    assert (left, gone, kept) == ([first.blob.uri], None, "processing")


async def test_a_step_that_fails_writes_and_publishes_nothing(units: DocumentUnits) -> None:
    user_id = uuid.uuid4()
    claimed = upload(user_id, "c" * 64)
    deleted = DocumentDeletedPayload(document_id=claimed.document_id, request_id=uuid.uuid4())
    event = new_event(DocumentDeletedV1, deleted, correlation_id="c", producer="test")

    async def broken_step() -> None:
        async with units.step() as step:
            await step.claim(user_id, claimed)
            await step.publish([event])
            raise RuntimeError("the step breaks")

    with pytest.raises(RuntimeError):
        await broken_step()
    async with units.step() as step:
        assert await step.status_of(claimed.document_id) is None
    assert await published(units, event.event_id) == 0


async def published(units: DocumentUnits, event_id: uuid.UUID) -> int:
    if isinstance(units, FakeDocuments):
        return sum(1 for event in units.published if event.event_id == event_id)
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
    async with engine.connect() as connection:
        found = await connection.scalar(
            select(func.count())
            .select_from(messaging.outbox)
            .where(messaging.outbox.c.event_id == event_id)
        )
    await engine.dispose()
    return found or 0
