"""Writing usage into the ledger, the daily rollups and the budget months: one statement per
consumed batch.

The statement claims each unit of usage (request, usage type, call index) so a unit sent twice
under different event ids counts once, prices each new row with the price valid at its time,
appends it to the ledger, adds it to its day's rollup and to its user's month, and returns
what the batch recorded per model (for the metrics) and the months whose budget state it
changed (to announce). Nothing per user travels back to the service otherwise.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics_service import budgets
from analytics_service.budgets import Month
from assistant_schemas.usage import UsageRecordedV1

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

RECORD = text(
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
    months AS ({budgets.ADD_SPEND.format(totals=MONTH_TOTALS)}),
    changed AS ({budgets.changed_months("months")}),
    per_model AS ({PER_MODEL})
    -- As text: the driver would parse JSON numbers as floats, and money is kept exact.
    SELECT (SELECT json_agg(per_model) FROM per_model)::text,
           (SELECT json_agg(changed) FROM changed)::text
    """  # noqa: S608 - constants of this module and of budgets only
)


@dataclass(frozen=True)
class MonthTotals:
    """What a rebuild adds up for one user's month."""

    user_id: uuid.UUID
    period: str
    cost_usd: Decimal
    tokens: int
    requests: int
    unpriced_events: int


@dataclass(frozen=True)
class ModelTotals:
    """What a batch recorded for one provider, model and usage type (for the metrics)."""

    provider: str
    model: str
    usage_type: str
    events: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    embedding_tokens: int
    cost_usd: Decimal
    unpriced_events: int

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> ModelTotals:
        return cls(**{**item, "cost_usd": Decimal(item["cost_usd"])})


@dataclass(frozen=True)
class Recorded:
    models: list[ModelTotals]
    changed_months: list[Month]  # their budget state changed; to be announced


def _from_json(document: str | None) -> list[dict[str, Any]]:
    return json.loads(document, parse_float=Decimal) if document else []


async def record(session: AsyncSession, events: Sequence[UsageRecordedV1]) -> Recorded:
    """Appends the events' usage (units already recorded are skipped) to the ledger, the
    rollups and the months; returns what was recorded per model and the changed months."""
    p = [event.payload for event in events]
    result = await session.execute(
        RECORD,
        {
            "event_ids": [e.event_id for e in events],
            "occurred": [e.occurred_at for e in events],
            "users": [e.user_id for e in events],
            "requests": [u.request_id for u in p],
            "types": [u.usage_type for u in p],
            "calls": [u.call_index for u in p],
            "providers": [u.provider for u in p],
            "models": [u.model for u in p],
            "input": [u.input_tokens for u in p],
            "output": [u.output_tokens for u in p],
            "cached": [u.cached_tokens for u in p],
            "reasoning": [u.reasoning_tokens for u in p],
            "embedding": [u.embedding_tokens for u in p],
            "api_calls": [u.api_calls for u in p],
            "latency": [u.latency_ms for u in p],
            "ttft": [u.ttft_ms for u in p],
        },
    )
    per_model, changed = result.one()
    return Recorded(
        models=[ModelTotals.from_json(item) for item in _from_json(per_model)],
        changed_months=[Month.from_json(item) for item in _from_json(changed)],
    )


async def rebuild_rollups(session: AsyncSession, start: date, end: date) -> int:
    """Recomputes the daily rollups of [start, end] from the ledger; returns rows written."""
    await session.execute(
        text("DELETE FROM analytics.daily_usage WHERE day BETWEEN :start AND :end"),
        {"start": start, "end": end},
    )
    result = await session.execute(
        text(
            f"""
            WITH rows AS (
                SELECT * FROM analytics.usage_events
                WHERE {IN_DAYS.format(table="analytics.usage_events")}
            )
            INSERT INTO analytics.daily_usage AS d {ROLLUP_COLUMNS} {ROLLUP_SELECT}
            """  # noqa: S608 - constants of this module only
        ),
        {"start": start, "end": end},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def month_totals(session: AsyncSession, period: str) -> list[MonthTotals]:
    """Every user's totals for a month, summed over the ledger."""
    result = await session.execute(
        text(
            f"""
            WITH rows AS (
                SELECT * FROM analytics.usage_events
                WHERE occurred_at >= to_date(:period, 'YYYY-MM')::timestamp AT TIME ZONE 'UTC'
                  AND occurred_at < (to_date(:period, 'YYYY-MM') + interval '1 month')
                                    ::timestamp AT TIME ZONE 'UTC'
            )
            {MONTH_TOTALS}
            """  # noqa: S608 - constants of this module only
        ),
        {"period": period},
    )
    return [MonthTotals(*row) for row in result]


async def period_cost(session: AsyncSession, start: date, end: date) -> Decimal:
    """What the ledger's usage of [start, end] cost, as priced now."""
    total = await session.scalar(
        text(
            f"""
            SELECT coalesce(sum(cost_usd), 0) FROM analytics.usage_events AS source
            WHERE {IN_DAYS.format(table="source")}
            """  # noqa: S608 - constants of this module only
        ),
        {"start": start, "end": end},
    )
    return Decimal(total)


async def reprice(session: AsyncSession, start: date, end: date) -> int:
    """Recomputes the cost of every ledger row of [start, end] from the price table; raw usage
    is not touched. Returns the rows repriced."""
    result = await session.execute(
        text(
            f"""
            UPDATE analytics.usage_events AS target
            SET price_id = (found.price).id, cost_usd = {COST}
            FROM analytics.usage_events AS source {PRICE_LOOKUP}
            WHERE target.event_id = source.event_id AND target.occurred_at = source.occurred_at
              AND {IN_DAYS.format(table="source")}
            """  # noqa: S608 - constants of this module only
        ),
        {"start": start, "end": end},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
