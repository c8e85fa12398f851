"""Tables of the `analytics` schema: the usage ledger, prices, daily rollups and budgets.

The ledger (`usage_events`) is append-only raw usage, partitioned by month; its `cost_usd` is
derived from `model_prices`, so a price fix is a replay (`reprice`), never an edit of usage.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "analytics"
USAGE_TYPES = ("llm", "embedding", "notion_api")
PLAN_TIERS = ("solo", "team", "enterprise")
BUDGET_STATES = ("ok", "soft_exceeded", "hard_exceeded")

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)

Money = Numeric(20, 8)
PricePerMillion = Numeric(12, 6)

usage_events = Table(
    "usage_events",
    metadata,
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("request_id", UUID(as_uuid=True), nullable=False),
    Column("usage_type", Text, nullable=False),
    Column("call_index", Integer, nullable=False),
    Column("provider", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cached_tokens", BigInteger, nullable=False),
    Column("reasoning_tokens", BigInteger, nullable=False),
    Column("embedding_tokens", BigInteger, nullable=False),
    Column("api_calls", Integer, nullable=False),
    Column("latency_ms", Float, nullable=True),
    Column("ttft_ms", Float, nullable=True),
    Column("price_id", BigInteger, nullable=True, comment="the model_prices row applied"),
    Column("cost_usd", Money, nullable=True, comment="null: no price known (flagged unpriced)"),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("event_id", "occurred_at"),
    Index("ix_usage_events_user_time", "user_id", "occurred_at"),
    postgresql_partition_by="RANGE (occurred_at)",
)

# One unit of usage per request, usage type and call: a second event naming the same unit
# (a producer that re-sent it under a new event id) is not counted again. Not partitioned, so
# the uniqueness holds whatever the two events' timestamps.
usage_units = Table(
    "usage_units",
    metadata,
    Column("request_id", UUID(as_uuid=True), nullable=False),
    Column("usage_type", Text, nullable=False),
    Column("call_index", Integer, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    PrimaryKeyConstraint("request_id", "usage_type", "call_index"),
)

model_prices = Table(
    "model_prices",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("provider", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True, comment="null: still valid"),
    Column("input_per_m", PricePerMillion, nullable=False, comment="USD per million tokens"),
    Column("output_per_m", PricePerMillion, nullable=False),
    Column("cached_per_m", PricePerMillion, nullable=True, comment="null: the input price"),
    Column("source", Text, nullable=True),
    UniqueConstraint("provider", "model", "valid_from"),
    CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
)

daily_usage = Table(
    "daily_usage",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("provider", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("requests", BigInteger, nullable=False, comment="first calls (fallbacks excluded)"),
    Column("calls", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cached_tokens", BigInteger, nullable=False),
    Column("reasoning_tokens", BigInteger, nullable=False),
    Column("embedding_tokens", BigInteger, nullable=False),
    Column("api_calls", BigInteger, nullable=False),
    Column("cost_usd", Money, nullable=False),
    Column("unpriced_events", BigInteger, nullable=False),
    Column(
        "latency_buckets",
        ARRAY(BigInteger),
        nullable=False,
        comment="counts per latency bucket (analytics_service.latency.BOUNDS_MS)",
    ),
    PrimaryKeyConstraint("user_id", "day", "provider", "model"),
    Index("ix_daily_usage_day", "day"),
    postgresql_with={"fillfactor": 70},  # updated by most batches: room for HOT updates
)

user_plans = Table(
    "user_plans",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("plan_tier", Text, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    CheckConstraint(f"plan_tier IN {PLAN_TIERS}", name="plan_tier"),
)


def _limit_columns() -> list[Column[object]]:
    return [
        Column("soft_limit_usd", Money, nullable=True),
        Column("hard_limit_usd", Money, nullable=True),
        Column("token_limit", BigInteger, nullable=True),
    ]


tier_budgets = Table(
    "tier_budgets",
    metadata,
    Column("plan_tier", Text, primary_key=True),
    *_limit_columns(),
    CheckConstraint(f"plan_tier IN {PLAN_TIERS}", name="plan_tier"),
)

user_budgets = Table(
    "user_budgets",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    *_limit_columns(),
)

budget_months = Table(
    "budget_months",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("period", Text, nullable=False, comment="YYYY-MM, UTC"),
    Column("spent_usd", Money, nullable=False),
    Column("tokens", BigInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("unpriced_events", BigInteger, nullable=False),
    Column("state", Text, nullable=False, server_default="ok"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "period"),
    CheckConstraint(f"state IN {BUDGET_STATES}", name="state"),
    postgresql_with={"fillfactor": 70},  # updated by most batches: room for HOT updates
)
