"""Full-text search over content history in Portuguese and English: the prompt's and the
content's words as a stored column, GIN-indexed (the seed had two Portuguese-only indexes).

Revision ID: generation_0004
Revises: generation_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "generation_0004"
down_revision = "generation_0003"
branch_labels = None
depends_on = None

WORDS = (
    "to_tsvector('portuguese', prompt || ' ' || generated_content)"
    " || to_tsvector('english', prompt || ' ' || generated_content)"
)


def upgrade() -> None:
    op.add_column(
        "content_history",
        sa.Column(
            "words",
            TSVECTOR(),
            sa.Computed(WORDS, persisted=True),
            comment="the prompt's and the content's words, in Portuguese and English, for search",
        ),
        schema="generation",
    )
    op.create_index(
        "ix_content_history_words",
        "content_history",
        ["words"],
        schema="generation",
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_content_history_words", table_name="content_history", schema="generation")
    op.drop_column("content_history", "words", schema="generation")
