"""Usage ledger (partitioned by month), prices (seeded), daily rollups, plans and budgets.

Revision ID: analytics_0002
Revises: analytics_0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# USD per million tokens (input, output, cached input) as published in November 2026; the
# same models the generation catalogue is seeded with. Embedding models price input only.
PRICES = [
    ("mock", "mock-1", "0", "0", "0"),
    ("openai", "gpt-5", "1.25", "10", "0.125"),
    ("openai", "gpt-5-mini", "0.25", "2", "0.025"),
    ("openai", "gpt-4.1", "2", "8", "0.5"),
    ("openai", "gpt-4o-mini", "0.15", "0.6", "0.075"),
    ("openai", "text-embedding-3-small", "0.02", "0", None),
    ("openai", "text-embedding-3-large", "0.13", "0", None),
    ("anthropic", "claude-sonnet-4-5", "3", "15", "0.3"),
    ("anthropic", "claude-haiku-4-5", "1", "5", "0.1"),
    ("anthropic", "claude-opus-4-1", "15", "75", "1.5"),
    ("deepseek", "deepseek-chat", "0.28", "0.42", "0.028"),
    ("deepseek", "deepseek-reasoner", "0.28", "0.42", "0.028"),
    ("local", "all-MiniLM-L6-v2", "0", "0", None),
    ("notion", "api", "0", "0", None),
]
PRICES_FROM = datetime(2025, 1, 1, tzinfo=UTC)

# Monthly limits per plan tier (USD soft, USD hard, tokens); administrators change them.
TIER_BUDGETS = [
    ("solo", "20", "25", None),
    ("team", "200", "250", None),
    ("enterprise", None, None, None),
]

# Keep in step with analytics_service.latency.BOUNDS_MS.
LATENCY_BOUNDS_MS = (
    "0,5,10,20,35,50,75,100,150,200,300,500,750,1000,1500,2000,3000,5000,7500,10000,"
    "15000,20000,30000,60000"
)

FUNCTIONS = [
    # Cost of one unit of usage under one price row. Input tokens include cached ones (the
    # OpenAI convention; generation reports Anthropic's cache reads the same way).
    """
    CREATE FUNCTION analytics.usage_cost(
        price analytics.model_prices,
        input_tokens bigint, output_tokens bigint, cached_tokens bigint, embedding_tokens bigint
    ) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
        SELECT round((
            (greatest(input_tokens - cached_tokens, 0) + embedding_tokens) * price.input_per_m
            + cached_tokens * coalesce(price.cached_per_m, price.input_per_m)
            + output_tokens * price.output_per_m
        ) / 1000000, 8)
    $$
    """,
    f"""
    CREATE FUNCTION analytics.latency_histogram(latencies float8[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE AS $$
        SELECT array_agg(coalesce(found.n, 0) ORDER BY bucket)
        FROM generate_series(1, {len(LATENCY_BOUNDS_MS.split(","))}) AS bucket
        LEFT JOIN (
            SELECT width_bucket(l, '{{{LATENCY_BOUNDS_MS}}}'::float8[]) AS b, count(*) AS n
            FROM unnest(latencies) AS l WHERE l IS NOT NULL GROUP BY 1
        ) AS found ON found.b = bucket
    $$
    """,  # noqa: S608 - constants of this file only
    """
    CREATE FUNCTION analytics.add_histograms(a bigint[], b bigint[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE AS $$
        SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
        FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
    $$
    """,
    """
    CREATE AGGREGATE analytics.histogram_sum(bigint[]) (
        SFUNC = analytics.add_histograms, STYPE = bigint[], INITCOND = '{}'
    )
    """,
]

revision = "analytics_0002"
down_revision = "analytics_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_months",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False, comment="YYYY-MM, UTC"),
        sa.Column("spent_usd", sa.Numeric(precision=20, scale=8), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("unpriced_events", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), server_default="ok", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('ok', 'soft_exceeded', 'hard_exceeded')", name=op.f("ck_budget_months_state")
        ),
        sa.PrimaryKeyConstraint("user_id", "period", name=op.f("pk_budget_months")),
        schema="analytics",
    )
    op.create_table(
        "daily_usage",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column(
            "requests", sa.BigInteger(), nullable=False, comment="first calls (fallbacks excluded)"
        ),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("embedding_tokens", sa.BigInteger(), nullable=False),
        sa.Column("api_calls", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=20, scale=8), nullable=False),
        sa.Column("unpriced_events", sa.BigInteger(), nullable=False),
        sa.Column(
            "latency_buckets",
            postgresql.ARRAY(sa.BigInteger()),
            nullable=False,
            comment="counts per latency bucket (analytics_service.latency.BOUNDS_MS)",
        ),
        sa.PrimaryKeyConstraint("user_id", "day", "provider", "model", name=op.f("pk_daily_usage")),
        schema="analytics",
    )
    op.create_index("ix_daily_usage_day", "daily_usage", ["day"], unique=False, schema="analytics")
    op.create_table(
        "model_prices",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "valid_to", sa.DateTime(timezone=True), nullable=True, comment="null: still valid"
        ),
        sa.Column(
            "input_per_m",
            sa.Numeric(precision=12, scale=6),
            nullable=False,
            comment="USD per million tokens",
        ),
        sa.Column("output_per_m", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column(
            "cached_per_m",
            sa.Numeric(precision=12, scale=6),
            nullable=True,
            comment="null: the input price",
        ),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_model_prices_validity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_prices")),
        sa.UniqueConstraint(
            "provider",
            "model",
            "valid_from",
            name=op.f("uq_model_prices_provider_model_valid_from"),
        ),
        schema="analytics",
    )
    op.create_table(
        "tier_budgets",
        sa.Column("plan_tier", sa.Text(), nullable=False),
        sa.Column("soft_limit_usd", sa.Numeric(precision=20, scale=8), nullable=True),
        sa.Column("hard_limit_usd", sa.Numeric(precision=20, scale=8), nullable=True),
        sa.Column("token_limit", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "plan_tier IN ('solo', 'team', 'enterprise')", name=op.f("ck_tier_budgets_plan_tier")
        ),
        sa.PrimaryKeyConstraint("plan_tier", name=op.f("pk_tier_budgets")),
        schema="analytics",
    )
    op.create_table(
        "usage_events",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("usage_type", sa.Text(), nullable=False),
        sa.Column("call_index", sa.Integer(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("embedding_tokens", sa.BigInteger(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column(
            "price_id", sa.BigInteger(), nullable=True, comment="the model_prices row applied"
        ),
        sa.Column(
            "cost_usd",
            sa.Numeric(precision=20, scale=8),
            nullable=True,
            comment="null: no price known (flagged unpriced)",
        ),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", "occurred_at", name=op.f("pk_usage_events")),
        schema="analytics",
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index(
        "ix_usage_events_user_time",
        "usage_events",
        ["user_id", "occurred_at"],
        unique=False,
        schema="analytics",
    )
    op.create_table(
        "usage_units",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("usage_type", sa.Text(), nullable=False),
        sa.Column("call_index", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint(
            "request_id", "usage_type", "call_index", name=op.f("pk_usage_units")
        ),
        schema="analytics",
    )
    op.create_table(
        "user_budgets",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("soft_limit_usd", sa.Numeric(precision=20, scale=8), nullable=True),
        sa.Column("hard_limit_usd", sa.Numeric(precision=20, scale=8), nullable=True),
        sa.Column("token_limit", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_budgets")),
        schema="analytics",
    )
    op.create_table(
        "user_plans",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("plan_tier", sa.Text(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "plan_tier IN ('solo', 'team', 'enterprise')", name=op.f("ck_user_plans_plan_tier")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_plans")),
        schema="analytics",
    )
    for statement in FUNCTIONS:
        op.execute(statement)
    _seed()


def _seed() -> None:
    prices = sa.table(
        "model_prices",
        sa.column("provider"),
        sa.column("model"),
        sa.column("valid_from", sa.DateTime(timezone=True)),
        sa.column("input_per_m", sa.Numeric),
        sa.column("output_per_m", sa.Numeric),
        sa.column("cached_per_m", sa.Numeric),
        sa.column("source"),
        schema="analytics",
    )
    op.bulk_insert(
        prices,
        [
            {
                "provider": provider,
                "model": model,
                "valid_from": PRICES_FROM,
                "input_per_m": input_price,
                "output_per_m": output_price,
                "cached_per_m": cached_price,
                "source": "published prices, November 2026",
            }
            for provider, model, input_price, output_price, cached_price in PRICES
        ],
    )
    tiers = sa.table(
        "tier_budgets",
        sa.column("plan_tier"),
        sa.column("soft_limit_usd", sa.Numeric),
        sa.column("hard_limit_usd", sa.Numeric),
        sa.column("token_limit", sa.BigInteger),
        schema="analytics",
    )
    columns = ("plan_tier", "soft_limit_usd", "hard_limit_usd", "token_limit")
    op.bulk_insert(tiers, [dict(zip(columns, tier, strict=True)) for tier in TIER_BUDGETS])


def downgrade() -> None:
    op.execute("DROP AGGREGATE analytics.histogram_sum(bigint[])")
    op.execute("DROP FUNCTION analytics.add_histograms(bigint[], bigint[])")
    op.execute("DROP FUNCTION analytics.latency_histogram(float8[])")
    op.execute(
        "DROP FUNCTION analytics.usage_cost(analytics.model_prices, bigint, bigint, bigint, bigint)"
    )
    op.drop_table("user_plans", schema="analytics")
    op.drop_table("user_budgets", schema="analytics")
    op.drop_table("usage_units", schema="analytics")
    op.drop_index("ix_usage_events_user_time", table_name="usage_events", schema="analytics")
    op.drop_table("usage_events", schema="analytics")
    op.drop_table("tier_budgets", schema="analytics")
    op.drop_table("model_prices", schema="analytics")
    op.drop_index("ix_daily_usage_day", table_name="daily_usage", schema="analytics")
    op.drop_table("daily_usage", schema="analytics")
    op.drop_table("budget_months", schema="analytics")
