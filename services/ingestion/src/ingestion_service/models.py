"""Tables of the `ingestion` schema: collections, documents (one per user and content hash),
their chunks with a full-text vector, the embedding indexes (one per model) and the chunks'
vectors in each (pgvector; each index has its own partial HNSW index, cosine), messaging."""

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "ingestion"
DOCUMENT_STATUSES = ("processing", "ingested", "failed")
INDEX_STATES = ("building", "ready")

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)

collections = Table(
    "collections",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=True, comment="null: the global collection"),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

documents = Table(
    "documents",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("collection_id", UUID(as_uuid=True), ForeignKey(collections.c.id), nullable=False),
    Column("request_id", UUID(as_uuid=True), nullable=False),
    Column("filename", Text, nullable=False),
    Column("title", Text, nullable=True, comment="the title it gives itself, if any"),
    Column("content_type", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("blob_uri", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="processing"),
    Column("stage", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("retryable", Boolean, nullable=True),
    Column("language", Text, nullable=True, comment="its text search configuration"),
    Column("chunk_count", Integer, nullable=False, server_default=text("0")),
    Column("embedding_model", Text, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"status IN {DOCUMENT_STATUSES}", name="status"),
    Index("uq_documents_user_id_sha256", "user_id", "sha256", unique=True),
    Index("ix_documents_user_id_created_at", "user_id", "created_at"),
)

chunks = Table(
    "chunks",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey(documents.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("collection_id", UUID(as_uuid=True), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("section", Text, nullable=True, comment="the heading path it falls under"),
    Column("page", Integer, nullable=True),
    Column("start_offset", Integer, nullable=False),
    Column("end_offset", Integer, nullable=False),
    Column("tokens", Integer, nullable=False),
    Column("tsv", TSVECTOR, nullable=False),
    Index("ix_chunks_document_id", "document_id"),
    Index("ix_chunks_collection_id", "collection_id"),
    Index("ix_chunks_tsv", "tsv", postgresql_using="gin"),
)

embedding_indexes = Table(
    "embedding_indexes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model", Text, nullable=False, unique=True, comment="backend/name, e.g. local/..."),
    Column("dimensions", Integer, nullable=False),
    Column("state", Text, nullable=False, comment="building: being filled; ready: serving"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ready_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(f"state IN {INDEX_STATES}", name="state"),
)

# Vectors of any dimension share the column; each index's HNSW index is a partial one on
# `embedding::vector(<its dimensions>)`, created with the index (`indexes.hnsw_index_ddl`).
# The chunk's document, owner and collection are repeated here so that vector search filters
# each candidate the index yields on its own row, without a lookup of the chunk.
chunk_embeddings = Table(
    "chunk_embeddings",
    metadata,
    Column(
        "index_id",
        Integer,
        ForeignKey(embedding_indexes.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "chunk_id",
        UUID(as_uuid=True),
        ForeignKey(chunks.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("document_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("collection_id", UUID(as_uuid=True), nullable=False),
    Column("embedding", Vector(), nullable=False),
    Index("ix_chunk_embeddings_chunk_id", "chunk_id"),
    Index("ix_chunk_embeddings_document_id", "document_id"),
    # A user with few chunks (or the global collection) is searched exactly through these,
    # not by walking everyone's neighbours in the HNSW index.
    Index("ix_chunk_embeddings_index_id_user_id", "index_id", "user_id"),
    Index("ix_chunk_embeddings_index_id_collection_id", "index_id", "collection_id"),
)
