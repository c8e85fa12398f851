"""Outbox and inbox of the generation schema.

Revision ID: generation_0001
Revises:
"""

from assistant_messaging.migration_ops import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "generation_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1("generation")


def downgrade() -> None:
    drop_messaging_tables_v1("generation")
