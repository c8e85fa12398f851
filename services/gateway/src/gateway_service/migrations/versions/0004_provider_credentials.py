"""Provider and Notion credentials, encrypted (seed table `api_keys`).

Revision ID: gateway_0004
Revises: gateway_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0004"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "provider_credentials",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column(
            "ciphertext", sa.Text(), nullable=False, comment="Fernet token; never the secret"
        ),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("masked", sa.Text(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            ondelete="CASCADE",
            name="fk_provider_credentials_user_id_users",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_provider_credentials"),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_provider_credentials_user_id_provider",
        "provider_credentials",
        ["user_id", "provider"],
        unique=True,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("provider_credentials", schema=SCHEMA)
