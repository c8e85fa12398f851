"""Request status projection and idempotency keys.

Revision ID: gateway_0007
Revises: gateway_0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0007"
down_revision = "gateway_0006"
branch_labels = None
depends_on = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column(
            "id", postgresql.UUID(as_uuid=True), nullable=False, comment="the request_id in events"
        ),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, comment="generation, document or notion_save"),
        sa.Column(
            "status", sa.Text(), nullable=False, comment="accepted, running, succeeded or failed"
        ),
        sa.Column(
            "detail", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('accepted', 'running', 'succeeded', 'failed')", name="ck_requests_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_requests_user_id_created_at", "requests", ["user_id", "created_at"], schema=SCHEMA
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "fingerprint", sa.Text(), nullable=False, comment="SHA-256 of method, path and body"
        ),
        sa.Column(
            "status_code", sa.Integer(), nullable=True, comment="null while the first is in flight"
        ),
        sa.Column("body", postgresql.JSONB(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema=SCHEMA)
    op.drop_table("requests", schema=SCHEMA)
