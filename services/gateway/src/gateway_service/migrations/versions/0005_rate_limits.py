"""Rate-limit counters shared by every gateway instance.

Revision ID: gateway_0005
Revises: gateway_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0005"
down_revision = "gateway_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("family", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "family", "window_start", name="pk_rate_limit_windows"),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("rate_limit_windows", schema="gateway")
