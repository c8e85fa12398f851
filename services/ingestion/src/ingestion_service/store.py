"""The `documents`, `collections` and `chunks` rows, written by the ingest job and the delete
handler. A document is claimed by inserting its row; one user's same bytes (same SHA-256) are
one document, however many uploads and however concurrent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_schemas.documents import DocumentUploadedPayload
from ingestion_service.chunking import Chunk
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.models import chunks, collections, documents

INSERT_CHUNK = text(
    "INSERT INTO ingestion.chunks (id, document_id, user_id, collection_id, ordinal, text,"
    " section, page, start_offset, end_offset, tokens, tsv)"
    " VALUES (:id, :document_id, :user_id, :collection_id, :ordinal, :text, :section, :page,"
    " :start_offset, :end_offset, :tokens,"
    " to_tsvector(CAST(:language AS regconfig), coalesce(:section, '') || ' ' || :text))"
)
INSERT_EMBEDDING = text(
    "INSERT INTO ingestion.chunk_embeddings (index_id, chunk_id, document_id, user_id,"
    " collection_id, embedding)"
    " VALUES (:index_id, :id, :document_id, :user_id, :collection_id, CAST(:embedding AS vector))"
)


@dataclass(frozen=True)
class Document:
    id: uuid.UUID
    request_id: uuid.UUID
    status: str
    chunk_count: int


async def claim(
    connection: AsyncConnection, user_id: uuid.UUID, upload: DocumentUploadedPayload
) -> Document:
    """The upload's document: its own row when its bytes are new to the user, else the row
    that already holds them (a duplicate). A concurrent duplicate waits on the unique index
    and then finds the winner's row."""
    name = str(upload.metadata.get("collection") or upload.collection_id)
    assert upload.collection_id is not None
    await connection.execute(
        insert(collections)
        .values(id=upload.collection_id, user_id=user_id, name=name)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    await connection.execute(
        insert(documents)
        .values(
            id=upload.document_id,
            user_id=user_id,
            collection_id=upload.collection_id,
            request_id=upload.request_id,
            filename=upload.filename,
            content_type=upload.blob.content_type,
            size_bytes=upload.blob.size_bytes,
            sha256=upload.blob.sha256,
            blob_uri=upload.blob.uri,
            metadata={k: v for k, v in upload.metadata.items() if k != "collection"},
        )
        .on_conflict_do_nothing()
    )
    c = documents.c
    row = (
        await connection.execute(
            select(c.id, c.request_id, c.status, c.chunk_count).where(
                c.user_id == user_id, c.sha256 == upload.blob.sha256
            )
        )
    ).one()
    return Document(*row)


async def reopen(
    connection: AsyncConnection, document_id: uuid.UUID, request_id: uuid.UUID
) -> None:
    """A failed document asked again (retry): processed anew under the new request."""
    await _set(
        connection, document_id, status="processing", request_id=request_id, error=None,
        retryable=None, stage=None,
    )  # fmt: skip


async def indexed(
    connection: AsyncConnection,
    document_id: uuid.UUID,
    rows: list[dict[str, Any]],
    *,
    index: EmbeddingIndex,
    language: str,
    content_type: str,
    title: str | None,
) -> bool:
    """Replaces the document's chunks with `rows` (their vectors in `index`) and marks it
    ingested, unless another worker got there first (False)."""
    status = await connection.scalar(
        select(documents.c.status).where(documents.c.id == document_id).with_for_update()
    )
    if status != "processing":
        return False
    await connection.execute(delete(chunks).where(chunks.c.document_id == document_id))
    if rows:
        await connection.execute(INSERT_CHUNK, rows)
        await connection.execute(INSERT_EMBEDDING, [row | {"index_id": index.id} for row in rows])
    await _set(
        connection, document_id, status="ingested", stage=None, language=language,
        chunk_count=len(rows), embedding_model=index.model, content_type=content_type,
        title=title,
    )  # fmt: skip
    return True


async def status_of(connection: AsyncConnection, document_id: uuid.UUID) -> str | None:
    return await connection.scalar(select(documents.c.status).where(documents.c.id == document_id))


async def failed(
    connection: AsyncConnection, document_id: uuid.UUID, stage: str, reason: str, retryable: bool
) -> None:
    await _set(
        connection, document_id, status="failed", stage=stage, error=reason, retryable=retryable
    )


async def remove(
    connection: AsyncConnection, user_id: uuid.UUID, document_id: uuid.UUID
) -> str | None:
    """Deletes the user's document and its chunks; returns its blob's reference, if it was
    there."""
    return await connection.scalar(
        delete(documents)
        .where(documents.c.id == document_id, documents.c.user_id == user_id)
        .returning(documents.c.blob_uri)
    )


async def remove_all(connection: AsyncConnection, user_id: uuid.UUID) -> list[str]:
    """Deletes every document, chunk and collection of the user; returns the blobs to delete."""
    blobs = await connection.scalars(
        delete(documents).where(documents.c.user_id == user_id).returning(documents.c.blob_uri)
    )
    found = list(blobs)
    await connection.execute(delete(collections).where(collections.c.user_id == user_id))
    return found


def chunk_rows(
    document: DocumentUploadedPayload,
    user_id: uuid.UUID,
    pieces: list[Chunk],
    vectors: list[list[float]],
    *,
    language: str,
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "document_id": document.document_id,
            "user_id": user_id,
            "collection_id": document.collection_id,
            "ordinal": ordinal,
            "text": piece.text,
            "section": piece.section,
            "page": piece.page,
            "start_offset": piece.start,
            "end_offset": piece.end,
            "tokens": piece.tokens,
            "language": language,
            "embedding": vector_literal(vector),
        }
        for ordinal, (piece, vector) in enumerate(zip(pieces, vectors, strict=True))
    ]


def vector_literal(vector: list[float]) -> str:
    """pgvector's text form of a vector."""
    return "[" + ",".join(map(str, vector)) + "]"


async def _set(connection: AsyncConnection, document_id: uuid.UUID, **values: Any) -> None:
    await connection.execute(
        update(documents)
        .where(documents.c.id == document_id)
        .values(**values, updated_at=func.now())
    )
