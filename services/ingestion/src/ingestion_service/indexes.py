"""The embedding indexes, one per model: its row in `embedding_indexes`, its chunks' vectors in
`chunk_embeddings`, and its own partial HNSW index on `embedding::vector(<dimensions>)` (the
vectors of every model share one column; pgvector indexes each model's slice at its width).

An index is `building` while a model's vectors are being filled in (`reindexing`), `ready` once
it holds a vector for every chunk; a process searches only with its own model's ready index.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ingestion_service.models import chunk_embeddings, chunks, embedding_indexes

HNSW_INDEX_NAME = "ix_chunk_embeddings_rt{id}"  # a run-time index (see assistant_db.migrations)


@dataclass(frozen=True)
class EmbeddingIndex:
    id: int
    model: str
    dimensions: int
    state: str

    @property
    def vector_type(self) -> str:
        """The SQL type its vectors are compared as (what its HNSW index is built on)."""
        return f"vector({self.dimensions})"


@dataclass(frozen=True)
class Coverage:
    index: EmbeddingIndex
    chunks: int  # chunks it holds a vector for
    total: int  # chunks there are


async def find(connection: AsyncConnection, model: str) -> EmbeddingIndex | None:
    c = embedding_indexes.c
    row = (
        await connection.execute(
            select(c.id, c.model, c.dimensions, c.state).where(c.model == model)
        )
    ).one_or_none()
    return EmbeddingIndex(*row) if row else None


async def find_or_create(
    connection: AsyncConnection, model: str, dimensions: int
) -> EmbeddingIndex:
    """The model's index; made when it has none: `building` (or ready at once when there are
    no chunks to fill it with), with its HNSW index."""
    # Two processes of a new model starting together: one creates, the other waits and finds.
    await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('ingestion.indexes'))"))
    if found := await find(connection, model):
        return found
    empty = not await connection.scalar(select(exists().select_from(chunks)))
    state = "ready" if empty else "building"
    index_id = await connection.scalar(
        insert(embedding_indexes)
        .values(
            model=model,
            dimensions=dimensions,
            state=state,
            ready_at=func.now() if empty else None,
        )
        .returning(embedding_indexes.c.id)
    )
    assert index_id is not None
    index = EmbeddingIndex(index_id, model, dimensions, state)
    await connection.execute(text(hnsw_index_ddl(index)))
    return index


def hnsw_index_ddl(index: EmbeddingIndex) -> str:
    # DDL cannot take bound parameters; both values are integers of our own.
    return (
        f"CREATE INDEX {hnsw_index_name(index)} ON ingestion.chunk_embeddings"
        f" USING hnsw ((embedding::{index.vector_type}) vector_cosine_ops)"
        f" WHERE index_id = {index.id}"
    )


def hnsw_index_name(index: EmbeddingIndex) -> str:
    return HNSW_INDEX_NAME.format(id=index.id)


async def missing(
    connection: AsyncConnection, index: EmbeddingIndex, limit: int, after: uuid.UUID | None
) -> list[tuple[uuid.UUID, str | None, str]]:
    """Up to `limit` chunks the index holds no vector for, in id order from after `after`:
    (id, section, text)."""
    held = select(chunk_embeddings.c.chunk_id).where(
        chunk_embeddings.c.index_id == index.id, chunk_embeddings.c.chunk_id == chunks.c.id
    )
    query = select(chunks.c.id, chunks.c.section, chunks.c.text).where(~held.exists())
    if after is not None:
        query = query.where(chunks.c.id > after)
    rows = await connection.execute(query.order_by(chunks.c.id).limit(limit))
    return [(row.id, row.section, row.text) for row in rows]


async def add_vectors(
    connection: AsyncConnection, index: EmbeddingIndex, vectors: dict[uuid.UUID, str]
) -> None:
    """Stores vectors (pgvector literals) of chunks that still exist; one deleted meanwhile is
    skipped, and one stored meanwhile by another process is kept."""
    await connection.execute(
        text(
            "INSERT INTO ingestion.chunk_embeddings (index_id, chunk_id, document_id, user_id,"
            " collection_id, embedding)"
            " SELECT :index_id, v.chunk_id, c.document_id, c.user_id, c.collection_id,"
            " CAST(v.embedding AS vector)"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:vectors AS text[])) AS v(chunk_id, embedding)"
            " JOIN ingestion.chunks c ON c.id = v.chunk_id FOR KEY SHARE OF c"
            " ON CONFLICT DO NOTHING"
        ),
        {"index_id": index.id, "ids": list(vectors), "vectors": list(vectors.values())},
    )


async def others_exist(connection: AsyncConnection, index: EmbeddingIndex) -> bool:
    """Whether any other model has an index (else every chunk is written into this one)."""
    others = select(embedding_indexes.c.id).where(embedding_indexes.c.id != index.id)
    return bool(await connection.scalar(select(others.exists())))


async def mark_ready(connection: AsyncConnection, index: EmbeddingIndex) -> EmbeddingIndex:
    await connection.execute(
        update(embedding_indexes)
        .where(embedding_indexes.c.id == index.id)
        .values(state="ready", ready_at=func.coalesce(embedding_indexes.c.ready_at, func.now()))
    )
    return EmbeddingIndex(index.id, index.model, index.dimensions, "ready")


async def chunk_count(connection: AsyncConnection) -> int:
    return await connection.scalar(select(func.count()).select_from(chunks)) or 0


async def coverage(connection: AsyncConnection) -> list[Coverage]:
    """Every index, with how many of the chunks it holds a vector for."""
    total = await chunk_count(connection)
    held = (
        select(chunk_embeddings.c.index_id, func.count().label("held"))
        .group_by(chunk_embeddings.c.index_id)
        .subquery()
    )
    i = embedding_indexes.c
    rows = await connection.execute(
        select(i.id, i.model, i.dimensions, i.state, func.coalesce(held.c.held, 0))
        .outerjoin(held, held.c.index_id == i.id)
        .order_by(i.id)
    )
    return [Coverage(EmbeddingIndex(*row[:4]), row[4], total) for row in rows]


async def drop(connection: AsyncConnection, model: str) -> bool:
    """Deletes the model's index and its vectors; False when there is none."""
    index = await find(connection, model)
    if index is None:
        return False
    await connection.execute(text(f"DROP INDEX ingestion.{hnsw_index_name(index)}"))
    await connection.execute(delete(embedding_indexes).where(embedding_indexes.c.id == index.id))
    return True
