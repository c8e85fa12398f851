"""Every hand-written SQL statement of the analytics service, in one module.

Statements share fragments only within this module (the price lookup, the rollup, the
limits that apply to a user); each module that runs SQL imports the finished statement. The
rules the database evaluates itself are functions of the `analytics` schema, created by its
migrations: `usage_cost` (a price row applied to a unit of usage), `budget_state` (a month's
state under its limits), `latency_histogram` and `add_histograms`.
"""

from sqlalchemy import text

DEFAULT_TIER = "solo"  # a user analytics has not yet heard a plan for

# Joined to rows `m` carrying a user_id: the limits that apply to that user.
LIMITS = f"""
    LEFT JOIN analytics.user_plans AS plan ON plan.user_id = m.user_id
    LEFT JOIN analytics.user_budgets AS own ON own.user_id = m.user_id
    LEFT JOIN analytics.tier_budgets AS tier
        ON tier.plan_tier = coalesce(plan.plan_tier, '{DEFAULT_TIER}')
"""
LIMIT_NAMES = ("soft_limit_usd", "hard_limit_usd", "token_limit")


def _limit(name: str) -> str:
    return f"CASE WHEN own.user_id IS NULL THEN tier.{name} ELSE own.{name} END"


LIMIT_COLUMNS = ", ".join(f"{_limit(name)} AS {name}" for name in LIMIT_NAMES)


def state_under_limits(spent_usd: str, tokens: str) -> str:
    """The SQL of the state a month's spend puts it in, under the limits `LIMITS` joined.
    The rule itself is the function `analytics.budget_state` (migration 0004)."""
    limits = ", ".join(_limit(name) for name in LIMIT_NAMES)
    return f"analytics.budget_state({spent_usd}, {tokens}, {limits})"


# Rows `m` of budget months, with their limits and the state their spend puts them in now.
MONTH_COLUMNS = f"""m.user_id, m.period, m.spent_usd, m.tokens, m.requests, m.unpriced_events,
    m.state, {LIMIT_COLUMNS}, {state_under_limits("m.spent_usd", "m.tokens")} AS evaluated"""

# Adds the month totals selected by `{totals}` (user_id, period, spent_usd, tokens, requests,
# unpriced_events) to the users' months; returns the months.
ADD_SPEND = """
    INSERT INTO analytics.budget_months AS b
        (user_id, period, spent_usd, tokens, requests, unpriced_events)
    {totals}
    ON CONFLICT (user_id, period) DO UPDATE SET
        spent_usd = b.spent_usd + excluded.spent_usd,
        tokens = b.tokens + excluded.tokens,
        requests = b.requests + excluded.requests,
        unpriced_events = b.unpriced_events + excluded.unpriced_events,
        updated_at = now()
    RETURNING *
"""


def changed_months(months: str) -> str:
    """The SQL selecting the months of the relation `months` whose state changed."""
    return f"""
        SELECT * FROM (SELECT {MONTH_COLUMNS} FROM {months} AS m {LIMITS}) AS checked
        WHERE evaluated <> state
    """  # noqa: S608 - constants of this module only


LOCK_MONTHS = text(
    f"""
    SELECT {MONTH_COLUMNS}
    FROM analytics.budget_months AS m {LIMITS}
    WHERE m.user_id = ANY(CAST(:users AS uuid[])) AND m.period = :period
    FOR UPDATE OF m
    """  # noqa: S608 - constants of this module only
)

SET_STATES = text(
    """
    UPDATE analytics.budget_months AS m SET state = s.state, updated_at = now()
    FROM unnest(CAST(:users AS uuid[]), CAST(:periods AS text[]), CAST(:states AS text[]))
        AS s(user_id, period, state)
    WHERE m.user_id = s.user_id AND m.period = s.period
    """
)


# The price row valid for `source` at its time, as a composite `found.price` (null if none).
PRICE_LOOKUP = """
    LEFT JOIN LATERAL (
        SELECT p AS price FROM analytics.model_prices AS p
        WHERE p.provider = source.provider AND p.model = source.model
          AND p.valid_from <= source.occurred_at
          AND (p.valid_to IS NULL OR source.occurred_at < p.valid_to)
        ORDER BY p.valid_from DESC LIMIT 1
    ) AS found ON true
"""
COST = """analytics.usage_cost(
    found.price, source.input_tokens, source.output_tokens, source.cached_tokens,
    source.embedding_tokens)"""

# One rollup row per user, UTC day, provider and model, aggregated from `rows`.
ROLLUP_SELECT = """
    SELECT user_id, (occurred_at AT TIME ZONE 'UTC')::date, provider, model,
           count(*) FILTER (WHERE call_index = 0), count(*),
           sum(input_tokens), sum(output_tokens), sum(cached_tokens), sum(reasoning_tokens),
           sum(embedding_tokens), sum(api_calls), coalesce(sum(cost_usd), 0),
           count(*) FILTER (WHERE cost_usd IS NULL),
           analytics.latency_histogram(array_agg(latency_ms))
    FROM rows GROUP BY 1, 2, 3, 4
"""
ROLLUP_COLUMNS = """(user_id, day, provider, model, requests, calls, input_tokens,
    output_tokens, cached_tokens, reasoning_tokens, embedding_tokens, api_calls, cost_usd,
    unpriced_events, latency_buckets)"""
ADDED_COLUMNS = (
    "requests",
    "calls",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "embedding_tokens",
    "api_calls",
    "cost_usd",
    "unpriced_events",
)
ROLLUP_MERGE = (
    "ON CONFLICT (user_id, day, provider, model) DO UPDATE SET "
    + ", ".join(f"{c} = d.{c} + excluded.{c}" for c in ADDED_COLUMNS)
    + ", latency_buckets = analytics.add_histograms(d.latency_buckets, excluded.latency_buckets)"
)

# What rows add to each user's month: spend, tokens billed, requests, unpriced units.
PERIOD = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')"
TOTALS = """coalesce(sum(cost_usd), 0), sum(input_tokens + output_tokens + embedding_tokens),
    count(*) FILTER (WHERE call_index = 0), count(*) FILTER (WHERE cost_usd IS NULL)"""
MONTH_TOTALS = f"SELECT user_id, {PERIOD}, {TOTALS} FROM rows GROUP BY 1, 2"  # noqa: S608 - constants

# Rows of `table` in the UTC days [:start, :end].
IN_DAYS = """{table}.occurred_at >= CAST(:start AS date)::timestamp AT TIME ZONE 'UTC'
    AND {table}.occurred_at < (CAST(:end AS date) + 1)::timestamp AT TIME ZONE 'UTC'"""

LEDGER_COLUMNS = """event_id, occurred_at, user_id, request_id, usage_type, call_index,
    provider, model, input_tokens, output_tokens, cached_tokens, reasoning_tokens,
    embedding_tokens, api_calls, latency_ms, ttft_ms"""

# What a batch recorded per provider, model and usage type (ModelTotals' fields).
PER_MODEL = """
    SELECT provider, model, usage_type, count(*) AS events,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cached_tokens) AS cached_tokens, sum(reasoning_tokens) AS reasoning_tokens,
           sum(embedding_tokens) AS embedding_tokens, coalesce(sum(cost_usd), 0) AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_events
    FROM rows GROUP BY 1, 2, 3
"""

RECORD_USAGE = text(
    f"""
    WITH incoming AS (
        SELECT * FROM unnest(
            CAST(:event_ids AS uuid[]), CAST(:occurred AS timestamptz[]),
            CAST(:users AS uuid[]), CAST(:requests AS uuid[]), CAST(:types AS text[]),
            CAST(:calls AS int[]), CAST(:providers AS text[]), CAST(:models AS text[]),
            CAST(:input AS bigint[]), CAST(:output AS bigint[]), CAST(:cached AS bigint[]),
            CAST(:reasoning AS bigint[]), CAST(:embedding AS bigint[]),
            CAST(:api_calls AS int[]), CAST(:latency AS float8[]), CAST(:ttft AS float8[])
        ) AS u({LEDGER_COLUMNS})
    ),
    units AS (
        INSERT INTO analytics.usage_units (request_id, usage_type, call_index, event_id)
        SELECT request_id, usage_type, call_index, event_id FROM incoming
        ON CONFLICT DO NOTHING RETURNING event_id
    ),
    rows AS (
        INSERT INTO analytics.usage_events ({LEDGER_COLUMNS}, price_id, cost_usd)
        SELECT source.*, (found.price).id, {COST}
        FROM incoming AS source JOIN units USING (event_id) {PRICE_LOOKUP}
        RETURNING *
    ),
    rolled AS (
        INSERT INTO analytics.daily_usage AS d {ROLLUP_COLUMNS} {ROLLUP_SELECT} {ROLLUP_MERGE}
    ),
    months AS ({ADD_SPEND.format(totals=MONTH_TOTALS)}),
    changed AS ({changed_months("months")}),
    per_model AS ({PER_MODEL})
    -- As text: the driver would parse JSON numbers as floats, and money is kept exact.
    SELECT (SELECT json_agg(per_model) FROM per_model)::text,
           (SELECT json_agg(changed) FROM changed)::text
    """  # noqa: S608 - constants of this module only
)

SUMMARY = text(
    f"""
    SELECT coalesce(b.spent_usd, 0), coalesce(b.tokens, 0), coalesce(b.requests, 0),
           coalesce(b.unpriced_events, 0), {LIMIT_COLUMNS},
           {state_under_limits("coalesce(b.spent_usd, 0)", "coalesce(b.tokens, 0)")}
    FROM (SELECT CAST(:user_id AS uuid) AS user_id) AS m
    LEFT JOIN analytics.budget_months AS b ON b.user_id = m.user_id AND b.period = :period
    {LIMITS}
    """  # noqa: S608 - constants of this module only
)

CLEAR_ROLLUPS = text("DELETE FROM analytics.daily_usage WHERE day BETWEEN :start AND :end")

# The daily rollups of the UTC days [:start, :end], recomputed from the ledger.
REBUILD_ROLLUPS = text(
    f"""
    WITH rows AS (
        SELECT * FROM analytics.usage_events
        WHERE {IN_DAYS.format(table="analytics.usage_events")}
    )
    INSERT INTO analytics.daily_usage AS d {ROLLUP_COLUMNS} {ROLLUP_SELECT}
    """  # noqa: S608 - constants of this module only
)

# Every user's totals for the month :period ('YYYY-MM'), summed over the ledger.
MONTH_TOTALS_OF_PERIOD = text(
    f"""
    WITH rows AS (
        SELECT * FROM analytics.usage_events
        WHERE occurred_at >= to_date(:period, 'YYYY-MM')::timestamp AT TIME ZONE 'UTC'
          AND occurred_at < (to_date(:period, 'YYYY-MM') + interval '1 month')
                            ::timestamp AT TIME ZONE 'UTC'
    )
    {MONTH_TOTALS}
    """  # noqa: S608 - constants of this module only
)

# What the ledger's usage of the UTC days [:start, :end] cost, as priced now.
PERIOD_COST = text(
    f"""
    SELECT coalesce(sum(cost_usd), 0) FROM analytics.usage_events AS source
    WHERE {IN_DAYS.format(table="source")}
    """  # noqa: S608 - constants of this module only
)

# The cost of every ledger row of [:start, :end] recomputed from the price table.
REPRICE = text(
    f"""
    UPDATE analytics.usage_events AS target
    SET price_id = (found.price).id, cost_usd = {COST}
    FROM analytics.usage_events AS source {PRICE_LOOKUP}
    WHERE target.event_id = source.event_id AND target.occurred_at = source.occurred_at
      AND {IN_DAYS.format(table="source")}
    """  # noqa: S608 - constants of this module only
)

# The users of plan tier :tier with a month :period and no limits of their own.
MONTHS_OF_TIER = text(
    """
    SELECT m.user_id FROM analytics.budget_months AS m
    LEFT JOIN analytics.user_plans AS plan ON plan.user_id = m.user_id
    WHERE m.period = :period AND coalesce(plan.plan_tier, :default) = :tier
      AND m.user_id NOT IN (SELECT user_id FROM analytics.user_budgets)
    """
)
