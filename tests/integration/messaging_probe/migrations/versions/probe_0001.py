"""The probe's messaging tables and its record of applied events.

Revision ID: probe_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from assistant_messaging.migration_ops import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "probe_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1("probe")
    op.create_table(
        "applied",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema="probe",
    )


def downgrade() -> None:
    op.drop_table("applied", schema="probe")
    drop_messaging_tables_v1("probe")
