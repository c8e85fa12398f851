"""Alembic operations for the outbox and inbox, frozen as version 1.

Migrations call these instead of repeating the DDL in every service. They must never change
once released: a new table shape gets a new function (`create_messaging_tables_v2`).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from assistant_messaging.tables import create_notify_trigger_sql, drop_notify_trigger_sql


def create_messaging_tables_v1(schema: str) -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        schema=schema,
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox"),
        schema=schema,
    )
    for statement in create_notify_trigger_sql(schema):
        op.execute(statement)


def drop_messaging_tables_v1(schema: str) -> None:
    for statement in drop_notify_trigger_sql(schema):
        op.execute(statement)
    op.drop_table("inbox", schema=schema)
    op.drop_table("outbox", schema=schema)
