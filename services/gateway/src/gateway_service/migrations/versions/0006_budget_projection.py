"""The budget projection analytics keeps current through budget.* events.

Revision ID: gateway_0006
Revises: gateway_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0006"
down_revision = "gateway_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_projection",
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("period", sa.Text(), nullable=False, comment="YYYY-MM"),
        sa.Column("state", sa.Text(), nullable=False, comment="ok, soft_exceeded or hard_exceeded"),
        sa.Column("spent_usd", sa.Numeric(18, 6), nullable=True),
        sa.Column("tokens", sa.BigInteger(), nullable=True),
        sa.Column("hard_limit_usd", sa.Numeric(18, 6), nullable=True),
        sa.Column(
            "as_of",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="occurred_at of the event applied last; older events are ignored",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_budget_projection"),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("budget_projection", schema="gateway")
