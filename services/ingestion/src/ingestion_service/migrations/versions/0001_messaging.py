"""Outbox and inbox of the ingestion schema.

Revision ID: ingestion_0001
Revises:
"""

from assistant_messaging.migration_ops import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "ingestion_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1("ingestion")


def downgrade() -> None:
    drop_messaging_tables_v1("ingestion")
