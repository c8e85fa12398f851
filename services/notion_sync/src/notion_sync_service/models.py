"""Tables of the `notion_sync` schema: users' Notion connections (token encrypted), messaging."""

from sqlalchemy import Column, DateTime, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "notion_sync"

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)

notion_connections = Table(
    "notion_connections",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("token_ciphertext", Text, nullable=False, comment="Fernet token, from the gateway"),
    Column("fingerprint", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
