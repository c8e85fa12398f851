"""The budget state rule as a SQL function, a latency histogram ten times cheaper, and room
on the pages of the rows every batch updates.

`analytics.budget_state` lets the statement that records a batch find the months whose state
changed, so only those travel back to the service. `analytics.latency_histogram` keeps its
result and becomes one pass over the latencies (it was a join against a series per rollup
row, a sixth of the time of recording a batch). The daily rollups and the budget months are
updated by nearly every batch: with a third of each page left free, an update can stay on its
page without touching the indexes (a HOT update; a third of them were, on full pages).

Revision ID: analytics_0004
Revises: analytics_0003
"""

from alembic import op

revision = "analytics_0004"
down_revision = "analytics_0003"
branch_labels = None
depends_on = None

# Keep in step with analytics_service.latency.BOUNDS_MS (a test compares them).
LATENCY_BOUNDS_MS = (
    "0,5,10,20,35,50,75,100,150,200,300,500,750,1000,1500,2000,3000,5000,7500,10000,"
    "15000,20000,30000,60000"
)
BUCKETS = len(LATENCY_BOUNDS_MS.split(","))

BUDGET_STATE = """
    CREATE FUNCTION analytics.budget_state(
        spent_usd numeric, tokens bigint,
        soft_limit_usd numeric, hard_limit_usd numeric, token_limit bigint
    ) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE
            WHEN spent_usd >= hard_limit_usd OR tokens >= token_limit THEN 'hard_exceeded'
            WHEN spent_usd >= soft_limit_usd THEN 'soft_exceeded'
            ELSE 'ok'
        END
    $$
"""

# Latencies below the first edge (none: producers' latencies are >= 0) and nulls are skipped.
HISTOGRAM_ONE_PASS = f"""
    CREATE OR REPLACE FUNCTION analytics.latency_histogram(latencies float8[]) RETURNS bigint[]
    LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        counts bigint[] := array_fill(0::bigint, ARRAY[{BUCKETS}]);
        latency float8;
        bucket int;
    BEGIN
        FOREACH latency IN ARRAY latencies LOOP
            bucket := width_bucket(latency, '{{{LATENCY_BOUNDS_MS}}}'::float8[]);
            IF bucket > 0 THEN
                counts[bucket] := counts[bucket] + 1;
            END IF;
        END LOOP;
        RETURN counts;
    END
    $$
"""

HISTOGRAM_JOINED = f"""
    CREATE OR REPLACE FUNCTION analytics.latency_histogram(latencies float8[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE AS $$
        SELECT array_agg(coalesce(found.n, 0) ORDER BY bucket)
        FROM generate_series(1, {BUCKETS}) AS bucket
        LEFT JOIN (
            SELECT width_bucket(l, '{{{LATENCY_BOUNDS_MS}}}'::float8[]) AS b, count(*) AS n
            FROM unnest(latencies) AS l WHERE l IS NOT NULL GROUP BY 1
        ) AS found ON found.b = bucket
    $$
"""  # noqa: S608 - constants of this file only


UPDATED_BY_EVERY_BATCH = ("daily_usage", "budget_months")


def upgrade() -> None:
    op.execute(BUDGET_STATE)
    op.execute(HISTOGRAM_ONE_PASS)
    for table in UPDATED_BY_EVERY_BATCH:
        op.execute(f"ALTER TABLE analytics.{table} SET (fillfactor = 70)")


def downgrade() -> None:
    for table in UPDATED_BY_EVERY_BATCH:
        op.execute(f"ALTER TABLE analytics.{table} RESET (fillfactor)")
    op.execute(HISTOGRAM_JOINED)
    op.execute("DROP FUNCTION analytics.budget_state(numeric, bigint, numeric, numeric, bigint)")
