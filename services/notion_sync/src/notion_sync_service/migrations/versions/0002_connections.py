"""Users' Notion connections (the integration token, encrypted).

Revision ID: notion_sync_0002
Revises: notion_sync_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "notion_sync_0002"
down_revision = "notion_sync_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notion_connections",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "token_ciphertext", sa.Text(), nullable=False, comment="Fernet token, from the gateway"
        ),
        sa.Column("fingerprint", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notion_connections")),
        schema="notion_sync",
    )


def downgrade() -> None:
    op.drop_table("notion_connections", schema="notion_sync")
