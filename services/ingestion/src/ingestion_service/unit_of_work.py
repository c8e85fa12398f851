"""The unit of work of the document jobs: each step reads and writes the `store` rows and
stages events in one transaction, committed together or not at all.

`ingesting` talks only to these protocols; `PostgresDocuments` is the real one, and the unit
tests run the same jobs on an in-memory one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import Envelope
from assistant_schemas.documents import DocumentUploadedPayload
from ingestion_service import store
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.store import Document


class DocumentStep(Protocol):
    async def claim(self, user_id: uuid.UUID, upload: DocumentUploadedPayload) -> Document: ...

    async def reopen(self, document_id: uuid.UUID, request_id: uuid.UUID) -> None: ...

    async def indexed(
        self,
        document_id: uuid.UUID,
        rows: list[dict[str, Any]],
        *,
        index: EmbeddingIndex,
        language: str,
        content_type: str,
        title: str | None,
    ) -> bool: ...

    async def status_of(self, document_id: uuid.UUID) -> str | None: ...

    async def failed(
        self, document_id: uuid.UUID, stage: str, reason: str, retryable: bool
    ) -> None: ...

    async def remove(self, user_id: uuid.UUID, document_id: uuid.UUID) -> str | None: ...

    async def remove_all(self, user_id: uuid.UUID) -> list[str]: ...

    async def publish(self, events: Sequence[Envelope[Any]]) -> None:
        """Stages `events`: they are published only if the step commits."""
        ...


class DocumentUnits(Protocol):
    def step(self) -> AbstractAsyncContextManager[DocumentStep]: ...


class PostgresDocumentStep:
    def __init__(self, connection: AsyncConnection, outbox: Outbox) -> None:
        self._connection = connection
        self._outbox = outbox

    async def claim(self, user_id: uuid.UUID, upload: DocumentUploadedPayload) -> Document:
        return await store.claim(self._connection, user_id, upload)

    async def reopen(self, document_id: uuid.UUID, request_id: uuid.UUID) -> None:
        await store.reopen(self._connection, document_id, request_id)

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
        return await store.indexed(
            self._connection,
            document_id,
            rows,
            index=index,
            language=language,
            content_type=content_type,
            title=title,
        )

    async def status_of(self, document_id: uuid.UUID) -> str | None:
        return await store.status_of(self._connection, document_id)

    async def failed(
        self, document_id: uuid.UUID, stage: str, reason: str, retryable: bool
    ) -> None:
        await store.failed(self._connection, document_id, stage, reason, retryable)

    async def remove(self, user_id: uuid.UUID, document_id: uuid.UUID) -> str | None:
        return await store.remove(self._connection, user_id, document_id)

    async def remove_all(self, user_id: uuid.UUID) -> list[str]:
        return await store.remove_all(self._connection, user_id)

    async def publish(self, events: Sequence[Envelope[Any]]) -> None:
        await self._outbox.add_all(self._connection, events)


class PostgresDocuments:
    def __init__(self, engine: AsyncEngine, outbox: Outbox) -> None:
        self._engine = engine
        self._outbox = outbox

    @asynccontextmanager
    async def step(self) -> AsyncIterator[DocumentStep]:
        async with self._engine.begin() as connection:
            yield PostgresDocumentStep(connection, self._outbox)
