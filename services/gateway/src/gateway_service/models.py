"""Tables of the `gateway` schema: identity (users, settings, refresh tokens) and messaging."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "gateway"
PLAN_TIERS = ("solo", "team", "enterprise")

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("email", Text, nullable=False, comment="stored lower-cased"),
    Column("username", Text, nullable=False, comment="as chosen; unique case-insensitively"),
    Column("password_hash", Text, nullable=False),
    Column("full_name", Text, nullable=True),
    Column("plan_tier", Text, nullable=False, server_default="solo"),
    Column("is_admin", Boolean, nullable=False, server_default="false"),
    Column("is_active", Boolean, nullable=False, server_default="true"),
    Column("deactivated_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"plan_tier IN {PLAN_TIERS}", name="plan_tier"),
    Index("uq_users_email", "email", unique=True),
    Index("uq_users_username_lower", text("lower(username)"), unique=True),
)

user_settings = Table(
    "user_settings",
    metadata,
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey(users.c.id, ondelete="CASCADE"), primary_key=True
    ),
    Column("default_provider", Text, nullable=True),
    Column("default_model", Text, nullable=True),
    Column("notion_config", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("ui_preferences", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False
    ),
    Column(
        "family_id",
        UUID(as_uuid=True),
        nullable=False,
        comment="every token rotated from one login; reuse of a rotated one revokes all",
    ),
    Column("token_hash", Text, nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_refresh_tokens_family_id", "family_id"),
    Index("ix_refresh_tokens_user_id", "user_id"),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False
    ),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False, comment="shown in listings: na_xxxxxxxx"),
    Column("key_hash", Text, nullable=False, unique=True, comment="SHA-256 of the whole key"),
    Column(
        "scopes", ARRAY(Text), nullable=False, server_default="{}", comment="empty: every scope"
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_access_keys_user_id", "user_id"),
)

provider_credentials = Table(
    "provider_credentials",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False
    ),
    Column("provider", Text, nullable=False),
    Column("ciphertext", Text, nullable=False, comment="Fernet token; never the secret"),
    Column("fingerprint", Text, nullable=False),
    Column("masked", Text, nullable=False),
    Column("base_url", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("uq_provider_credentials_user_id_provider", "user_id", "provider", unique=True),
)

rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("family", Text, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("user_id", "family", "window_start", name="pk_rate_limit_windows"),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", Text, primary_key=True, comment="account:<login> or address:<ip>"),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True), nullable=True),
)

budget_projection = Table(
    "budget_projection",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("period", Text, nullable=False, comment="YYYY-MM"),
    Column("state", Text, nullable=False, comment="ok, soft_exceeded or hard_exceeded"),
    Column("spent_usd", Numeric(18, 6), nullable=True),
    Column("tokens", BigInteger, nullable=True),
    Column("hard_limit_usd", Numeric(18, 6), nullable=True),
    Column(
        "as_of",
        DateTime(timezone=True),
        nullable=False,
        comment="occurred_at of the event applied last; older events are ignored",
    ),
)

# The model catalogue as generation last announced it (catalog.changed): one row.
catalog_projection = Table(
    "catalog_projection",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default="true"),
    Column("version", BigInteger, nullable=False, comment="lower versions are ignored"),
    Column("providers", JSONB, nullable=False),
    Column("models", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("singleton", name="singleton"),
)

requests = Table(
    "requests",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, comment="the request_id in events"),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False, comment="generation, document or notion_save"),
    Column("status", Text, nullable=False, comment="accepted, running, succeeded or failed"),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('accepted', 'running', 'succeeded', 'failed')", name="status"),
    Index("ix_requests_user_id_created_at", "user_id", "created_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("key", Text, nullable=False),
    Column("fingerprint", Text, nullable=False, comment="SHA-256 of method, path and body"),
    Column("status_code", Integer, nullable=True, comment="null while the first is in flight"),
    Column("body", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
)
