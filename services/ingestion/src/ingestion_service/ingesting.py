"""The document jobs, keyed by document (so a delete waits for its document's ingestion):
`document.uploaded` — parse, chunk, embed, index, announced with `document.progress` when
parsing starts and when embedding starts (with the number of chunks; a document of several
batches reports each), then `document.ingested` (every stage done), or `document.failed` with
the stage and a reason a person can act on — and `document.delete_requested`; and
`account.deleted`, which removes all of a user's.

Nothing is written to `chunks` until the end: the chunks, the document's status, its outcome
event and the embedding usage commit in one transaction, so a worker killed mid-document leaves
no partial chunks, and its redelivered upload is simply ingested again. A duplicate upload (the
user's same bytes) collapses into the document that holds them.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Protocol

import structlog
from pydantic import BaseModel

from assistant_blobs import BlobStore
from assistant_messaging.consuming.failures import PermanentFailure
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.documents import (
    DocumentDeletedPayload,
    DocumentDeletedV1,
    DocumentDeleteRequestedV1,
    DocumentFailedPayload,
    DocumentFailedV1,
    DocumentIngestedPayload,
    DocumentIngestedV1,
    DocumentProgressPayload,
    DocumentProgressV1,
    DocumentUploadedPayload,
    DocumentUploadedV1,
    IngestionStage,
)
from assistant_schemas.envelope import EventT
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from ingestion_service import store
from ingestion_service.batching import EmbeddingBatcher
from ingestion_service.chunking import Chunk, chunk
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.language import text_search_config
from ingestion_service.parsing import Parsed, ParseError, parse
from ingestion_service.settings import IngestionSettings
from ingestion_service.unit_of_work import DocumentUnits

log = structlog.get_logger(__name__)


class StageFailed(Exception):
    def __init__(self, stage: IngestionStage, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.stage, self.reason, self.retryable = stage, reason, retryable


class IndexInUse(Protocol):
    async def current(self) -> EmbeddingIndex:
        """The index to write to (`reindexing.ModelIndex`)."""
        ...


class DocumentIngester:
    def __init__(
        self,
        *,
        settings: IngestionSettings,
        units: DocumentUnits,
        blobs: BlobStore,
        embeddings: EmbeddingBatcher,
        index: IndexInUse,
    ) -> None:
        self.settings = settings
        self.units = units
        self.blobs = blobs
        self.embeddings = embeddings
        self.embedder = embeddings.embedder
        self.index = index

    async def ingest(self, event: DocumentUploadedV1) -> None:
        if event.user_id is None or event.payload.collection_id is None:
            raise PermanentFailure("document.uploaded needs a user_id and a collection_id")
        with structlog.contextvars.bound_contextvars(
            document_id=str(event.payload.document_id),
            user_id=str(event.user_id),
            correlation_id=event.correlation_id,
        ):
            await _Ingestion(self, event).run()

    async def abandon(self, event: DocumentUploadedV1, why: str) -> None:
        """An upload set aside for good (dead-lettered): its document ends as failed, with a
        reason, instead of staying `processing` for ever."""
        if event.user_id is None:
            return
        failure = StageFailed(
            "indexing",
            f"the document failed on every attempt and was set aside for an operator ({why})",
            retryable=True,
        )
        await _Ingestion(self, event).fail_unless_finished(failure)

    async def forget(self, event: AccountDeletedV1) -> None:
        """A deleted account: its documents, chunks, collections and bytes, all gone."""
        if event.user_id is None:
            raise PermanentFailure("account.deleted names no user_id")
        async with self.units.step() as step:
            blobs = await step.remove_all(event.user_id)
        # Every blob of the owner, not only those still referenced: a redelivery after a crash
        # between the commit and here finds no rows, and would otherwise leave the bytes.
        removed = await asyncio.to_thread(self.blobs.delete_owner, event.user_id)
        log.info("account's documents removed", documents=len(blobs), blobs=removed)

    async def delete(self, event: DocumentDeleteRequestedV1) -> None:
        """The document, its chunks, then its blob (a crash between the two leaves only an
        unreferenced blob, never a document without its bytes)."""
        if event.user_id is None:
            raise PermanentFailure("document.delete_requested names no user_id")
        p = event.payload
        async with self.units.step() as step:
            blob = await step.remove(event.user_id, p.document_id)
            deleted = DocumentDeletedPayload(document_id=p.document_id, request_id=p.request_id)
            await step.publish(
                [
                    new_event(
                        DocumentDeletedV1,
                        deleted,
                        correlation_id=event.correlation_id,
                        producer="ingestion",
                        user_id=event.user_id,
                    )
                ]
            )
        if blob is not None:
            await asyncio.to_thread(self.blobs.delete, blob)


class _Ingestion:
    def __init__(self, ingester: DocumentIngester, event: DocumentUploadedV1) -> None:
        self.ingester = ingester
        self.event = event
        self.upload: DocumentUploadedPayload = event.payload
        assert event.user_id is not None
        self.user_id: uuid.UUID = event.user_id

    async def run(self) -> None:
        async with self.ingester.units.step() as step:
            document = await step.claim(self.user_id, self.upload)
            if document.id != self.upload.document_id:
                await step.publish([await self._duplicate_of(document)])
                return
            if document.status == "failed" and document.request_id != self.upload.request_id:
                await step.reopen(document.id, self.upload.request_id)
            elif document.status != "processing":
                return  # finished before: a redelivery
            await step.publish([self._progress("parsing", 0, 1)])
        try:
            await self._ingest()
        except StageFailed as failure:
            await self._fail(failure)

    async def _ingest(self) -> None:
        parsed = await asyncio.to_thread(self._parse)
        language = text_search_config(
            "\n".join(s.text for s in parsed.sections), self.upload.metadata.get("language")
        )
        pieces = await asyncio.to_thread(self._chunk, parsed)
        async with self.ingester.units.step() as step:  # parsed and chunked, too
            await step.publish([self._progress("embedding", 0, len(pieces))])
        vectors, tokens = await self._embed(pieces)
        index = await self.ingester.index.current()
        rows = store.chunk_rows(self.upload, self.user_id, pieces, vectors, language=language)
        async with self.ingester.units.step() as step:
            if not await step.indexed(
                self.upload.document_id,
                rows,
                index=index,
                language=language,
                content_type=parsed.content_type,
                title=parsed.title,
            ):
                return  # another worker ingested it meanwhile
            ingested = DocumentIngestedPayload(
                document_id=self.upload.document_id,
                request_id=self.upload.request_id,
                chunk_count=len(rows),
                embedding_model=index.model,
                dimensions=index.dimensions,
            )
            # Every stage is done: `document.ingested` says so (no progress event per stage).
            await step.publish(
                [self._follow_up(DocumentIngestedV1, ingested), self._usage(index.model, tokens)]
            )
        log.info("document ingested", chunks=len(rows), language=language)

    def _parse(self) -> Parsed:
        try:
            data = self.ingester.blobs.get(self.upload.blob.uri)
        except FileNotFoundError:
            raise StageFailed(
                "parsing", "the uploaded file is gone from the blob store: upload it again",
                retryable=False,
            ) from None  # fmt: skip
        except ValueError:  # published by another system with a reference of its own
            raise StageFailed(
                "parsing", "the upload's blob reference is not one this system stores: "
                "upload the file through the gateway", retryable=False,
            ) from None  # fmt: skip
        try:
            return parse(data, self.upload.filename)
        except ParseError as error:
            raise StageFailed("parsing", str(error), retryable=False) from None

    def _chunk(self, parsed: Parsed) -> list[Chunk]:
        settings = self.ingester.settings
        return chunk(
            parsed.sections,
            self.ingester.embedder.count_tokens,
            settings.chunk_tokens,
            settings.chunk_overlap,
        )

    async def _embed(self, pieces: list[Chunk]) -> tuple[list[list[float]], int]:
        """Vectors for the chunks, a batch at a time, each batch announced; and the tokens
        they held (the model's own count, made when chunking)."""
        batch = self.ingester.settings.embedding_batch_size
        vectors: list[list[float]] = []
        for start in range(0, len(pieces), batch):
            if start:  # a document of several batches reports each
                async with self.ingester.units.step() as step:
                    await step.publish([self._progress("embedding", len(vectors), len(pieces))])
            texts = [piece.embedded_text for piece in pieces[start : start + batch]]
            try:
                found = await self.ingester.embeddings.embed(texts)
            except Exception as error:
                reason = f"the embedding model failed: {type(error).__name__}: {error}"
                raise StageFailed("embedding", reason[:1000], retryable=True) from error
            vectors += found
        return vectors, sum(piece.tokens for piece in pieces)

    def _progress(self, stage: IngestionStage, done: int, total: int) -> DocumentProgressV1:
        """A stage under way: `document.progress` (the gateway's status keeps the counts)."""
        progress = DocumentProgressPayload(
            document_id=self.upload.document_id,
            request_id=self.upload.request_id,
            stage=stage,
            completed=done,
            total=total,
        )
        return self._follow_up(DocumentProgressV1, progress)

    async def fail_unless_finished(self, failure: StageFailed) -> None:
        async with self.ingester.units.step() as step:
            status = await step.status_of(self.upload.document_id)
        if status in (None, "processing"):
            await self._fail(failure)

    async def _fail(self, failure: StageFailed) -> None:
        failed = DocumentFailedPayload(
            document_id=self.upload.document_id,
            request_id=self.upload.request_id,
            stage=failure.stage,
            reason=failure.reason,
            retryable=failure.retryable,
        )
        async with self.ingester.units.step() as step:
            await step.failed(
                self.upload.document_id, failure.stage, failure.reason, failure.retryable
            )
            await step.publish([self._follow_up(DocumentFailedV1, failed)])
        log.warning("document failed", stage=failure.stage, reason=failure.reason)

    async def _duplicate_of(self, document: store.Document) -> DocumentIngestedV1:
        index = await self.ingester.index.current()
        return self._follow_up(
            DocumentIngestedV1,
            DocumentIngestedPayload(
                document_id=self.upload.document_id,
                request_id=self.upload.request_id,
                chunk_count=document.chunk_count,
                embedding_model=index.model,
                dimensions=index.dimensions,
                duplicate_of=document.id,
            ),
        )

    def _usage(self, model: str, tokens: int) -> UsageRecordedV1:
        provider, _, name = model.partition("/")
        return self._follow_up(
            UsageRecordedV1,
            UsageRecordedPayload(
                request_id=self.upload.request_id,
                usage_type="embedding",
                provider=provider,
                model=name,
                embedding_tokens=tokens,
                api_calls=1,
            ),
        )

    def _follow_up(self, contract: type[EventT], payload: BaseModel) -> EventT:
        return new_event(
            contract,
            payload,
            correlation_id=self.event.correlation_id,
            producer="ingestion",
            user_id=self.user_id,
        )
