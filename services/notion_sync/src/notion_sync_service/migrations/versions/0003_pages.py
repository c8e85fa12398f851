"""Pages written for requests (seed table `notion_pages`), with their write checkpoints.

Revision ID: notion_sync_0003
Revises: notion_sync_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "notion_sync_0003"
down_revision = "notion_sync_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notion_pages",
        sa.Column("request_id", sa.UUID(), nullable=False, comment="one page per request"),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("source_request_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.Text(), server_default="writing", nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=False),
        sa.Column("page_id", sa.Text(), nullable=True, comment="null until Notion created it"),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "creating_since",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="a create call was sent then; its page may exist unrecorded",
        ),
        sa.Column(
            "appended",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="checkpoint",
        ),
        sa.Column(
            "in_doubt",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="the last attempt ended without knowing whether its last append landed",
        ),
        sa.Column("api_calls", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reported_calls", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("usage_reports", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('writing', 'synced', 'failed')", name=op.f("ck_notion_pages_status")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_notion_pages")),
        sa.UniqueConstraint("page_id", name=op.f("uq_notion_pages_page_id")),
        schema="notion_sync",
    )
    op.create_index(
        "ix_notion_pages_user_id_created_at",
        "notion_pages",
        ["user_id", "created_at"],
        unique=False,
        schema="notion_sync",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_notion_pages_user_id_created_at", table_name="notion_pages", schema="notion_sync"
    )
    op.drop_table("notion_pages", schema="notion_sync")
