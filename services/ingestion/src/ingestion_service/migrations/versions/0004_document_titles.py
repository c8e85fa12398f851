"""Documents' own titles (an HTML page's `<title>`, a Markdown file's first heading, a PDF's or
DOCX's properties), so that search hits and citations can say where they come from. Documents
ingested before keep none: their hits fall back to the file name.

Revision ID: ingestion_0004
Revises: ingestion_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "ingestion_0004"
down_revision = "ingestion_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "documents",
        sa.Column("title", sa.Text(), nullable=True, comment="the title it gives itself, if any"),
        schema="ingestion",
    )


def downgrade() -> None:
    op.drop_column("documents", "title", schema="ingestion")
