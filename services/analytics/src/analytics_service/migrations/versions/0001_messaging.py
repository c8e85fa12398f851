"""Outbox and inbox of the analytics schema.

Revision ID: analytics_0001
Revises:
"""

from assistant_messaging.migration_ops import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "analytics_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1("analytics")


def downgrade() -> None:
    drop_messaging_tables_v1("analytics")
