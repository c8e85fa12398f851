"""The version of the announced catalogue (catalog.changed).

Revision ID: generation_0003
Revises: generation_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "generation_0003"
down_revision = "generation_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("singleton", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_catalog_version_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_catalog_version")),
        schema="generation",
    )
    op.execute("INSERT INTO generation.catalog_version DEFAULT VALUES")


def downgrade() -> None:
    op.drop_table("catalog_version", schema="generation")
