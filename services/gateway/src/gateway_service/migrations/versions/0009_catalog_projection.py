"""The catalogue projection generation keeps current through catalog.changed.

Revision ID: gateway_0009
Revises: gateway_0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0009"
down_revision = "gateway_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_projection",
        sa.Column("singleton", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False, comment="lower versions are ignored"),
        sa.Column("providers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("models", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("singleton", name=op.f("ck_catalog_projection_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_catalog_projection")),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("catalog_projection", schema="gateway")
