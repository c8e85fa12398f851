"""Access API keys for machine clients.

Revision ID: gateway_0003
Revises: gateway_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "access_keys",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False, comment="shown in listings: na_xxxxxxxx"),
        sa.Column("key_hash", sa.Text(), nullable=False, comment="SHA-256 of the whole key"),
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.Text()),
            server_default="{}",
            nullable=False,
            comment="empty: every scope",
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            ondelete="CASCADE",
            name="fk_access_keys_user_id_users",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_keys"),
        sa.UniqueConstraint("key_hash", name="uq_access_keys_key_hash"),
        schema=SCHEMA,
    )
    op.create_index("ix_access_keys_user_id", "access_keys", ["user_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("access_keys", schema=SCHEMA)
