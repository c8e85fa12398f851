"""In-memory stand-ins for what the document jobs talk to: their unit of work, an embedding
model that counts words, and the index in use."""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from assistant_schemas import Envelope
from assistant_schemas.documents import DocumentUploadedPayload
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.store import Document

INDEX = EmbeddingIndex(id=1, model="test/words", dimensions=2, state="ready")


@dataclass
class StoredDocument:
    """A `documents` row, with its chunks."""

    id: uuid.UUID
    user_id: uuid.UUID
    collection_id: uuid.UUID
    request_id: uuid.UUID
    sha256: str
    blob_uri: str
    status: str = "processing"
    stage: str | None = None
    error: str | None = None
    retryable: bool | None = None
    chunk_count: int = 0
    language: str | None = None
    embedding_model: str | None = None
    content_type: str | None = None
    title: str | None = None
    chunks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeDocuments:
    """Documents, collections and published events; a step's writes land only if it ends
    without an exception, as a transaction's would."""

    documents: dict[uuid.UUID, StoredDocument] = field(default_factory=dict)
    collections: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # id -> user
    published: list[Envelope[Any]] = field(default_factory=list)

    @asynccontextmanager
    async def step(self) -> AsyncIterator[FakeDocumentStep]:
        step = FakeDocumentStep(copy.deepcopy(self.documents), dict(self.collections))
        yield step
        self.documents, self.collections = step.documents, step.collections
        self.published.extend(step.staged)

    def published_types(self) -> list[str]:
        return [event.type for event in self.published]


class FakeDocumentStep:
    def __init__(
        self, documents: dict[uuid.UUID, StoredDocument], collections: dict[uuid.UUID, uuid.UUID]
    ) -> None:
        self.documents = documents
        self.collections = collections
        self.staged: list[Envelope[Any]] = []

    async def claim(self, user_id: uuid.UUID, upload: DocumentUploadedPayload) -> Document:
        assert upload.collection_id is not None
        self.collections.setdefault(upload.collection_id, user_id)
        held = self._holding(user_id, upload.blob.sha256)
        if held is None and upload.document_id not in self.documents:
            self.documents[upload.document_id] = StoredDocument(
                upload.document_id,
                user_id,
                upload.collection_id,
                upload.request_id,
                upload.blob.sha256,
                upload.blob.uri,
            )
        found = self._holding(user_id, upload.blob.sha256)
        assert found is not None
        return Document(found.id, found.request_id, found.status, found.chunk_count)

    async def reopen(self, document_id: uuid.UUID, request_id: uuid.UUID) -> None:
        stored = self.documents[document_id]
        stored.status, stored.request_id = "processing", request_id
        stored.error = stored.retryable = stored.stage = None

    async def indexed(
        self,
        document_id: uuid.UUID,
        rows: list[dict[str, Any]],
        *,
        index: EmbeddingIndex,
        language: str,
        content_type: str,
        title: str | None,
    ) -> bool:
        stored = self.documents.get(document_id)
        if stored is None or stored.status != "processing":
            return False
        stored.chunks = rows
        stored.status, stored.stage, stored.chunk_count = "ingested", None, len(rows)
        stored.language, stored.embedding_model = language, index.model
        stored.content_type, stored.title = content_type, title
        return True

    async def status_of(self, document_id: uuid.UUID) -> str | None:
        stored = self.documents.get(document_id)
        return None if stored is None else stored.status

    async def failed(
        self, document_id: uuid.UUID, stage: str, reason: str, retryable: bool
    ) -> None:
        stored = self.documents.get(document_id)
        if stored is not None:
            stored.status, stored.stage, stored.error = "failed", stage, reason
            stored.retryable = retryable

    async def remove(self, user_id: uuid.UUID, document_id: uuid.UUID) -> str | None:
        stored = self.documents.get(document_id)
        if stored is None or stored.user_id != user_id:
            return None
        del self.documents[document_id]
        return stored.blob_uri

    async def remove_all(self, user_id: uuid.UUID) -> list[str]:
        theirs = [d for d in self.documents.values() if d.user_id == user_id]
        for document in theirs:
            del self.documents[document.id]
        for collection, owner in list(self.collections.items()):
            if owner == user_id:
                del self.collections[collection]
        return [document.blob_uri for document in theirs]

    async def publish(self, events: Sequence[Envelope[Any]]) -> None:
        self.staged.extend(events)

    def _holding(self, user_id: uuid.UUID, sha256: str) -> StoredDocument | None:
        return next(
            (d for d in self.documents.values() if (d.user_id, d.sha256) == (user_id, sha256)),
            None,
        )


@dataclass
class WordCounter:
    """An embedding model whose tokens are words and whose vectors say how long a text is;
    `broken` makes it fail."""

    name: str = INDEX.model
    broken: bool = False
    calls: int = 0

    def dimensions(self) -> int:
        return INDEX.dimensions

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.broken:
            raise ConnectionError("the model server is away")
        return [_unit([len(text.split()), 1.0]) for text in texts]


@dataclass(frozen=True)
class FixedIndex:
    index: EmbeddingIndex = INDEX

    async def current(self) -> EmbeddingIndex:
        return self.index


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]
