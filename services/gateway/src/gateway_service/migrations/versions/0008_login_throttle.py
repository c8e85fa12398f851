"""Failed logins per account name and per client address, for throttling password guessing.

Revision ID: gateway_0008
Revises: gateway_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0008"
down_revision = "gateway_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.Text(), nullable=False, comment="account:<login> or address:<ip>"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_failures"),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("login_failures", schema="gateway")
