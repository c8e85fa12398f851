"""The outbox and inbox tables every service keeps in its own schema."""

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from assistant_db.metadata import quoted_schema


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", Text, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("headers", JSONB, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel the outbox relay of `schema` wakes on."""
    return f"{schema}_outbox"


def create_notify_trigger_sql(schema: str) -> list[str]:
    """DDL for a migration: one NOTIFY per inserting statement (NOTIFY fires at commit)."""
    channel = notify_channel(schema)
    schema = quoted_schema(schema)
    return [
        f"""
        CREATE OR REPLACE FUNCTION {schema}.notify_outbox() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{channel}', '');
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.notify_outbox()
        """,
    ]


def drop_notify_trigger_sql(schema: str) -> list[str]:
    schema = quoted_schema(schema)
    return [
        f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox",
        f"DROP FUNCTION IF EXISTS {schema}.notify_outbox()",
    ]
