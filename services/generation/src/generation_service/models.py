"""Tables of the `generation` schema: the model catalogue and its version, conversations and
their messages, content history, users' provider credentials (encrypted), the jobs being
answered, messaging."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "generation"
API_STYLES = ("openai", "anthropic", "mock")
ROLES = ("system", "user", "assistant")
JOB_STATES = ("running", "succeeded", "failed")

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


ai_providers = Table(
    "ai_providers",
    metadata,
    Column("name", Text, primary_key=True),
    Column("label", Text, nullable=False),
    Column("api_style", Text, nullable=False, comment="openai, anthropic or mock"),
    Column("base_url", Text, nullable=True, comment="null: the SDK's default endpoint"),
    Column("requires_key", Boolean, nullable=False, server_default="true"),
    Column("enabled", Boolean, nullable=False, server_default="true"),
    *_timestamps(),
    CheckConstraint(f"api_style IN {API_STYLES}", name="api_style"),
)

ai_models = Table(
    "ai_models",
    metadata,
    Column(
        "provider",
        Text,
        ForeignKey(ai_providers.c.name, ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
    ),
    Column("model", Text, nullable=False),
    Column("context_window", Integer, nullable=False),
    Column("max_output_tokens", Integer, nullable=False),
    Column("input_price", Numeric(12, 4), nullable=False, comment="USD per million tokens"),
    Column("output_price", Numeric(12, 4), nullable=False, comment="USD per million tokens"),
    Column("cached_input_price", Numeric(12, 4), nullable=True),
    Column("enabled", Boolean, nullable=False, server_default="true"),
    *_timestamps(),
    PrimaryKeyConstraint("provider", "model"),
)

# One row: the version of the catalogue announced last. Bumping it in a change's transaction
# orders concurrent changes, so a later version always carries every earlier change.
catalog_version = Table(
    "catalog_version",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default="true"),
    Column("version", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("singleton", name="singleton"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("title", Text, nullable=True),
    Column("provider", Text, nullable=False, comment="of the latest turn"),
    Column("model", Text, nullable=False, comment="of the latest turn"),
    Column("system_prompt", Text, nullable=True),
    *_timestamps(),
    Index("ix_conversations_user_id_updated_at", "user_id", "updated_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "conversation_id",
        UUID(as_uuid=True),
        ForeignKey(conversations.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    Column("request_id", UUID(as_uuid=True), nullable=False),
    Column("role", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("provider", Text, nullable=True),
    Column("model", Text, nullable=True),
    Column("input_tokens", Integer, nullable=True),
    Column("output_tokens", Integer, nullable=True),
    Column("cached_tokens", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("ttft_ms", Float, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"role IN {ROLES}", name="role"),
    Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
)

HISTORY_WORDS = (
    "to_tsvector('portuguese', prompt || ' ' || generated_content)"
    " || to_tsvector('english', prompt || ' ' || generated_content)"
)

content_history = Table(
    "content_history",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, comment="the request id"),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("conversation_id", UUID(as_uuid=True), nullable=True),
    Column("provider", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("generated_content", Text, nullable=False),
    Column("notion_page_id", Text, nullable=True),
    Column("notion_url", Text, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "words",
        TSVECTOR,
        Computed(HISTORY_WORDS, persisted=True),
        comment="the prompt's and the content's words, in Portuguese and English, for search",
    ),
    Index("ix_content_history_user_id_created_at", "user_id", "created_at"),
    Index("ix_content_history_words", "words", postgresql_using="gin"),
)

provider_credentials = Table(
    "provider_credentials",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("provider", Text, nullable=False),
    Column("ciphertext", Text, nullable=False, comment="Fernet token, as the gateway sent"),
    Column("base_url", Text, nullable=True),
    Column("fingerprint", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "provider"),
)

generation_jobs = Table(
    "generation_jobs",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("worker", Text, nullable=False, comment="instance running (or that ran) it"),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(f"status IN {JOB_STATES}", name="status"),
    Index(
        "ix_generation_jobs_worker_running",
        "worker",
        postgresql_where=text("status = 'running'"),
    ),
)
