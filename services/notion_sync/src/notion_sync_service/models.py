"""Tables of the `notion_sync` schema: users' Notion connections (token encrypted), the pages
written for requests with their checkpoints, messaging."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
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

PAGE_STATUSES = ("writing", "synced", "failed")

notion_pages = Table(
    "notion_pages",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True, comment="one page per request"),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("source_request_id", UUID(as_uuid=True), nullable=True),
    Column("status", Text, nullable=False, server_default="writing"),
    Column("title", Text, nullable=False),
    Column("parent_id", Text, nullable=False),
    Column("page_id", Text, nullable=True, unique=True, comment="null until Notion created it"),
    Column("url", Text, nullable=True),
    Column(
        "creating_since",
        DateTime(timezone=True),
        nullable=True,
        comment="a create call was sent then; its page may exist unrecorded",
    ),
    Column("appended", Integer, nullable=False, server_default=text("0"), comment="checkpoint"),
    Column(
        "in_doubt",
        Boolean,
        nullable=False,
        server_default=text("false"),
        comment="the last attempt ended without knowing whether its last append landed",
    ),
    Column("api_calls", Integer, nullable=False, server_default=text("0")),
    Column("reported_calls", Integer, nullable=False, server_default=text("0")),
    Column("usage_reports", Integer, nullable=False, server_default=text("0")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("reason", Text, nullable=True),
    Column("retryable", Boolean, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"status IN {PAGE_STATUSES}", name="status"),
    Index("ix_notion_pages_user_id_created_at", "user_id", "created_at"),
)
