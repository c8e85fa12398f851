"""The document jobs on an in-memory unit of work, with real parsing, chunking and blob store
and a word-counting embedding model: what each stage records and announces, and how
duplicates, redeliveries, failures, retries, set-asides and deletions end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistant_blobs import LocalBlobStore
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountDeletedPayload, AccountDeletedV1
from assistant_schemas.documents import (
    BlobReference,
    DocumentDeleteRequestedPayload,
    DocumentDeleteRequestedV1,
    DocumentUploadedPayload,
    DocumentUploadedV1,
    collection_id,
)
from ingestion_fakes import INDEX, FakeDocuments, FixedIndex, WordCounter
from ingestion_service.batching import EmbeddingBatcher
from ingestion_service.ingesting import DocumentIngester
from ingestion_service.settings import IngestionSettings

BATCH = 4
# About 30 words a sentence, so chunks of at most 32 words hold one sentence each.
SENTENCE = (
    "The operator restarts the broker and the consumers take their partitions back, which "
    "is what this manual says to check first when lag grows for more than {n} minutes."
)
MANUAL = " ".join(SENTENCE.format(n=n) for n in range(10)).encode()


@pytest.fixture
def documents() -> FakeDocuments:
    return FakeDocuments()


@pytest.fixture
def model() -> WordCounter:
    return WordCounter()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path)


@pytest.fixture
async def ingester(
    documents: FakeDocuments, model: WordCounter, blobs: LocalBlobStore
) -> AsyncIterator[DocumentIngester]:
    settings = IngestionSettings(embedding_batch_size=BATCH, chunk_tokens=32, chunk_overlap=0)
    embeddings = EmbeddingBatcher([model], BATCH, linger_s=0)
    await embeddings.start()
    try:
        yield DocumentIngester(
            settings=settings,
            units=documents,
            blobs=blobs,
            embeddings=embeddings,
            index=FixedIndex(),
        )
    finally:
        await embeddings.stop()


def uploaded(
    blobs: LocalBlobStore, user_id: uuid.UUID, data: bytes = MANUAL, **fields: Any
) -> DocumentUploadedV1:
    uri, digest = blobs.put(user_id, data)
    payload = DocumentUploadedPayload(
        document_id=fields.pop("document_id", uuid.uuid4()),
        request_id=uuid.uuid4(),
        collection_id=collection_id(user_id, "manuals"),
        filename="manual.txt",
        blob=BlobReference(uri=uri, sha256=digest, size_bytes=len(data), content_type="text/plain"),
        metadata={"collection": "manuals"},
    )
    return new_event(
        DocumentUploadedV1, payload, correlation_id="c-1", producer="test", user_id=user_id
    )


def progress(documents: FakeDocuments) -> list[tuple[str, int, int]]:
    return [
        (e.payload.stage, e.payload.completed, e.payload.total)
        for e in documents.published
        if e.type == "document.progress"
    ]


async def test_a_document_is_ingested_with_progress_per_batch_its_chunks_and_usage(
    documents: FakeDocuments, blobs: LocalBlobStore, ingester: DocumentIngester
) -> None:
    user_id = uuid.uuid4()
    event = uploaded(blobs, user_id)

    await ingester.ingest(event)

    stored = documents.documents[event.payload.document_id]
    count = stored.chunk_count
    assert count == 10  # a sentence a chunk
    assert (stored.status, stored.language, stored.embedding_model) == (
        "ingested", "english", INDEX.model,
    )  # fmt: skip
    assert stored.content_type == "text/plain"
    assert [row["ordinal"] for row in stored.chunks] == list(range(count))
    assert all(row["user_id"] == user_id and row["language"] == "english" for row in stored.chunks)
    assert stored.chunks[3]["text"].startswith("The operator restarts")
    assert "3 minutes" in stored.chunks[3]["text"]
    assert progress(documents) == [
        ("parsing", 0, 1), ("embedding", 0, count), ("embedding", 4, count),
        ("embedding", 8, count),
    ]  # fmt: skip
    ingested, usage = documents.published[-2:]
    assert ingested.type == "document.ingested"
    assert (ingested.payload.chunk_count, ingested.payload.embedding_model) == (count, INDEX.model)
    assert ingested.payload.duplicate_of is None
    assert (usage.payload.usage_type, usage.payload.provider, usage.payload.model) == (
        "embedding", "test", "words",
    )  # fmt: skip
    assert usage.payload.embedding_tokens == sum(row["tokens"] for row in stored.chunks)
    assert all(e.user_id == user_id and e.correlation_id == "c-1" for e in documents.published)


async def test_the_same_bytes_again_are_a_duplicate_and_a_redelivery_is_nothing(
    documents: FakeDocuments, blobs: LocalBlobStore, ingester: DocumentIngester, model: WordCounter
) -> None:
    user_id = uuid.uuid4()
    first, again = uploaded(blobs, user_id), uploaded(blobs, user_id)
    await ingester.ingest(first)
    calls, announced = model.calls, len(documents.published)

    await ingester.ingest(again)
    await ingester.ingest(first)

    [duplicate] = documents.published[announced:]
    assert duplicate.type == "document.ingested"
    assert duplicate.payload.document_id == again.payload.document_id
    assert duplicate.payload.duplicate_of == first.payload.document_id
    assert (
        duplicate.payload.chunk_count == documents.documents[first.payload.document_id].chunk_count
    )
    assert list(documents.documents) == [first.payload.document_id]
    assert model.calls == calls  # nothing embedded again


async def test_failures_name_their_stage_and_a_retry_ingests_the_document(
    documents: FakeDocuments, blobs: LocalBlobStore, ingester: DocumentIngester, model: WordCounter
) -> None:
    user_id = uuid.uuid4()
    event = uploaded(blobs, user_id)
    model.broken = True

    await ingester.ingest(event)

    stored = documents.documents[event.payload.document_id]
    assert (stored.status, stored.stage, stored.retryable) == ("failed", "embedding", True)
    assert stored.error is not None
    assert "the embedding model failed: ConnectionError" in stored.error
    assert stored.chunks == []
    failed = documents.published[-1]
    assert (failed.type, failed.payload.stage, failed.payload.reason) == (
        "document.failed", "embedding", stored.error,
    )  # fmt: skip

    model.broken = False
    retried = event.payload.model_copy(update={"request_id": uuid.uuid4()})
    await ingester.ingest(event.model_copy(update={"payload": retried}))

    stored = documents.documents[event.payload.document_id]
    assert (stored.status, stored.error, stored.request_id) == (
        "ingested", None, retried.request_id,
    )  # fmt: skip
    assert documents.published[-2].type == "document.ingested"


async def test_a_blob_gone_fails_parsing_for_good(
    documents: FakeDocuments, blobs: LocalBlobStore, ingester: DocumentIngester
) -> None:
    event = uploaded(blobs, uuid.uuid4())
    blobs.delete(event.payload.blob.uri)

    await ingester.ingest(event)

    stored = documents.documents[event.payload.document_id]
    assert (stored.status, stored.stage, stored.retryable) == ("failed", "parsing", False)
    assert stored.error == "the uploaded file is gone from the blob store: upload it again"


async def test_an_upload_set_aside_ends_failed_with_why_unless_it_finished(
    documents: FakeDocuments, blobs: LocalBlobStore, ingester: DocumentIngester
) -> None:
    user_id = uuid.uuid4()
    finished, stuck = uploaded(blobs, user_id), uploaded(blobs, user_id, b"another file " * 20)
    await ingester.ingest(finished)
    async with documents.step() as step:
        await step.claim(user_id, stuck.payload)  # its worker died mid-way
    announced = len(documents.published)

    await ingester.abandon(finished, "poison")
    await ingester.abandon(stuck, "poison")

    [failed] = documents.published[announced:]
    assert (failed.type, failed.payload.document_id) == (
        "document.failed",
        stuck.payload.document_id,
    )
    assert "set aside for an operator (poison)" in failed.payload.reason
    assert documents.documents[stuck.payload.document_id].status == "failed"
    assert documents.documents[finished.payload.document_id].status == "ingested"


async def test_deleting_a_document_or_an_account_takes_the_rows_and_the_bytes(
    documents: FakeDocuments, blobs: LocalBlobStore, ingester: DocumentIngester, tmp_path: Path
) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    kept, deleted = uploaded(blobs, ada), uploaded(blobs, ada, b"notes to delete " * 20)
    bobs = uploaded(blobs, bob)
    for event in (kept, deleted, bobs):
        await ingester.ingest(event)
    request_id = uuid.uuid4()
    deletion = DocumentDeleteRequestedPayload(
        document_id=deleted.payload.document_id, request_id=request_id
    )

    await ingester.delete(
        new_event(
            DocumentDeleteRequestedV1, deletion, correlation_id="c", producer="t", user_id=ada
        )
    )

    assert set(documents.documents) == {kept.payload.document_id, bobs.payload.document_id}
    assert documents.published[-1].type == "document.deleted"
    assert documents.published[-1].payload.request_id == request_id
    with pytest.raises(FileNotFoundError):
        blobs.get(deleted.payload.blob.uri)

    forgotten = AccountDeletedPayload(reason="user_request")
    await ingester.forget(
        new_event(AccountDeletedV1, forgotten, correlation_id="c", producer="t", user_id=ada)
    )

    assert set(documents.documents) == {bobs.payload.document_id}
    assert set(documents.collections.values()) == {bob}
    assert not (tmp_path / str(ada)).exists() or not any((tmp_path / str(ada)).iterdir())
    assert blobs.get(bobs.payload.blob.uri) == MANUAL
