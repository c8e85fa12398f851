"""Embedding indexes, one per model: the chunks' vectors move from `chunks.embedding` to
`chunk_embeddings` under the index of the model that made them, so a second model can be
filled in beside the first (its own vectors, its own dimensions, its own HNSW index) while the
first keeps serving.

Revision ID: ingestion_0003
Revises: ingestion_0002
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "ingestion_0003"
down_revision = "ingestion_0002"
branch_labels = None
depends_on = None

# chunks.embedding was vector(384): the vectors moved keep that width.


def upgrade() -> None:
    op.create_table(
        "embedding_indexes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False, comment="backend/name, e.g. local/..."),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column(
            "state", sa.Text(), nullable=False, comment="building: being filled; ready: serving"
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('building', 'ready')", name=op.f("ck_embedding_indexes_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embedding_indexes")),
        sa.UniqueConstraint("model", name=op.f("uq_embedding_indexes_model")),
        schema="ingestion",
    )
    op.create_table(
        "chunk_embeddings",
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("chunk_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("collection_id", sa.UUID(), nullable=False),
        sa.Column("embedding", Vector(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chunk_id"],
            ["ingestion.chunks.id"],
            name=op.f("fk_chunk_embeddings_chunk_id_chunks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["index_id"],
            ["ingestion.embedding_indexes.id"],
            name=op.f("fk_chunk_embeddings_index_id_embedding_indexes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("index_id", "chunk_id", name=op.f("pk_chunk_embeddings")),
        schema="ingestion",
    )
    op.create_index(
        "ix_chunk_embeddings_chunk_id", "chunk_embeddings", ["chunk_id"], schema="ingestion"
    )
    op.create_index(
        "ix_chunk_embeddings_document_id", "chunk_embeddings", ["document_id"], schema="ingestion"
    )
    for column in ("user_id", "collection_id"):
        op.create_index(
            f"ix_chunk_embeddings_index_id_{column}", "chunk_embeddings", ["index_id", column],
            schema="ingestion",
        )  # fmt: skip
    # Each model found in the chunks becomes a ready index holding the vectors it made.
    op.execute(
        "INSERT INTO ingestion.embedding_indexes (model, dimensions, state, ready_at)"
        " SELECT DISTINCT embedding_model, 384, 'ready', now()"
        " FROM ingestion.chunks"
    )
    op.execute(
        "INSERT INTO ingestion.chunk_embeddings (index_id, chunk_id, document_id, user_id,"
        " collection_id, embedding)"
        " SELECT i.id, c.id, c.document_id, c.user_id, c.collection_id, c.embedding"
        " FROM ingestion.chunks c"
        " JOIN ingestion.embedding_indexes i ON i.model = c.embedding_model"
    )
    op.execute(
        "DO $$ DECLARE i record; BEGIN"
        " FOR i IN SELECT id FROM ingestion.embedding_indexes LOOP"
        "  EXECUTE format('CREATE INDEX ix_chunk_embeddings_rt%s ON ingestion.chunk_embeddings"
        "   USING hnsw ((embedding::vector(384)) vector_cosine_ops)"
        "   WHERE index_id = %s', i.id, i.id);"
        " END LOOP; END $$"
    )
    op.drop_index("ix_chunks_embedding", table_name="chunks", schema="ingestion")
    op.drop_column("chunks", "embedding", schema="ingestion")
    op.drop_column("chunks", "embedding_model", schema="ingestion")


def downgrade() -> None:
    """Back to one vector(384) per chunk: each chunk keeps the vector of the oldest 384-wide
    index that has it; chunks no such index holds are deleted with their vectors."""
    op.add_column("chunks", sa.Column("embedding", Vector(384)), schema="ingestion")
    op.add_column("chunks", sa.Column("embedding_model", sa.Text()), schema="ingestion")
    op.execute(
        "UPDATE ingestion.chunks c SET embedding = e.embedding::vector(384), embedding_model ="
        " e.model FROM (SELECT DISTINCT ON (ce.chunk_id) ce.chunk_id, ce.embedding, i.model"
        "  FROM ingestion.chunk_embeddings ce JOIN ingestion.embedding_indexes i"
        "  ON i.id = ce.index_id WHERE i.dimensions = 384"
        "  ORDER BY ce.chunk_id, i.id) e WHERE e.chunk_id = c.id"
    )
    op.execute("DELETE FROM ingestion.chunks WHERE embedding IS NULL")
    op.alter_column("chunks", "embedding", nullable=False, schema="ingestion")
    op.alter_column("chunks", "embedding_model", nullable=False, schema="ingestion")
    op.create_index(
        "ix_chunks_embedding", "chunks", ["embedding"], postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"}, schema="ingestion",
    )  # fmt: skip
    op.drop_table("chunk_embeddings", schema="ingestion")
    op.drop_table("embedding_indexes", schema="ingestion")
