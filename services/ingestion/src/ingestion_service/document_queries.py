"""Answering `documents.query` over request/reply: the caller's documents, a page at a time
(newest first, filtered by status, type or collection), and changes to one's metadata or
collection — its chunks move with it; nothing is embedded again."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assistant_db.keyset import decode_cursor, encode_cursor, past
from assistant_messaging.request_reply import replies
from assistant_schemas import Envelope
from assistant_schemas.documents import collection_id
from assistant_schemas.queries import (
    DocumentsQueryPayload,
    DocumentsQueryV1,
    DocumentsResultPayload,
    DocumentsResultV1,
    DocumentSummary,
)
from ingestion_service.models import chunk_embeddings, chunks, collections, documents

answer = partial(replies.answer, producer="ingestion")
refusal = partial(replies.refusal, producer="ingestion")


class DocumentQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, query: DocumentsQueryV1) -> Envelope[Any]:
        if query.user_id is None:
            return refusal(query, 400, "the query names no user")
        p = query.payload
        async with self._engine.begin() as connection:
            if p.action == "update":
                return await self._update(connection, query, query.user_id, p)
            return await self._list(connection, query, query.user_id, p)

    async def _list(
        self,
        connection: AsyncConnection,
        query: DocumentsQueryV1,
        user_id: uuid.UUID,
        p: DocumentsQueryPayload,
    ) -> Envelope[Any]:
        statement = _summaries().where(documents.c.user_id == user_id)
        if p.status:
            statement = statement.where(documents.c.status == p.status)
        if p.content_type:
            statement = statement.where(documents.c.content_type == p.content_type)
        if p.collection:
            statement = statement.where(collections.c.name == p.collection)
        if p.cursor:
            try:
                position = decode_cursor(p.cursor)
            except ValueError:
                return refusal(query, 400, "cursor: not one this listing gave")
            statement = statement.where(
                past(documents.c.created_at, documents.c.id, position, descending=True)
            )
        rows = list(
            await connection.execute(
                statement.order_by(documents.c.created_at.desc(), documents.c.id.desc()).limit(
                    p.limit + 1
                )
            )
        )
        page = [_summary(row) for row in rows[: p.limit]]
        cursor = (
            encode_cursor(page[-1].created_at, page[-1].document_id)
            if len(rows) > p.limit
            else None
        )
        return answer(
            query, DocumentsResultV1, DocumentsResultPayload(documents=page, next_cursor=cursor)
        )

    async def _update(
        self,
        connection: AsyncConnection,
        query: DocumentsQueryV1,
        user_id: uuid.UUID,
        p: DocumentsQueryPayload,
    ) -> Envelope[Any]:
        if p.document_id is None:
            return refusal(query, 400, "document_id: required to update a document")
        mine = documents.c.id == p.document_id, documents.c.user_id == user_id
        values: dict[str, Any] = {}
        if p.metadata is not None:
            values["metadata"] = p.metadata
        if p.new_collection is not None:
            target = collection_id(user_id, p.new_collection)
            await connection.execute(
                insert(collections)
                .values(id=target, user_id=user_id, name=p.new_collection)
                .on_conflict_do_nothing(index_elements=["id"])
            )
            values["collection_id"] = target
            for table in (chunks, chunk_embeddings):  # the vectors carry it too, for search
                await connection.execute(
                    update(table)
                    .where(table.c.document_id == p.document_id, table.c.user_id == user_id)
                    .values(collection_id=target)
                )
        if values:
            await connection.execute(update(documents).where(*mine).values(**values))
        row = (await connection.execute(_summaries().where(*mine))).first()
        if row is None:
            return refusal(query, 404, f"you have no document {p.document_id}")
        return answer(query, DocumentsResultV1, DocumentsResultPayload(documents=[_summary(row)]))


def _summaries() -> Select[Any]:
    d = documents.c
    return select(
        d.id, d.filename, d.title, d.content_type, collections.c.name, d.status, d.stage, d.error,
        d.chunk_count, d.size_bytes, d.metadata, d.created_at, d.updated_at,
    ).join(collections, collections.c.id == d.collection_id)  # fmt: skip


def _summary(row: Any) -> DocumentSummary:
    return DocumentSummary(
        document_id=row.id,
        filename=row.filename,
        title=row.title,
        content_type=row.content_type,
        collection=row.name,
        status=row.status,
        stage=row.stage,
        error=row.error,
        chunk_count=row.chunk_count,
        size_bytes=row.size_bytes,
        metadata=row.metadata,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
