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

from sqlalchemy.ext.asyncio import AsyncSession

from analytics_service import statements
from analytics_service.budgets import Month
from assistant_schemas.usage import UsageRecordedV1


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
        statements.RECORD_USAGE,
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
        statements.CLEAR_ROLLUPS,
        {"start": start, "end": end},
    )
    result = await session.execute(
        statements.REBUILD_ROLLUPS,
        {"start": start, "end": end},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def month_totals(session: AsyncSession, period: str) -> list[MonthTotals]:
    """Every user's totals for a month, summed over the ledger."""
    result = await session.execute(
        statements.MONTH_TOTALS_OF_PERIOD,
        {"period": period},
    )
    return [MonthTotals(*row) for row in result]


async def period_cost(session: AsyncSession, start: date, end: date) -> Decimal:
    """What the ledger's usage of [start, end] cost, as priced now."""
    total = await session.scalar(
        statements.PERIOD_COST,
        {"start": start, "end": end},
    )
    return Decimal(total)


async def reprice(session: AsyncSession, start: date, end: date) -> int:
    """Recomputes the cost of every ledger row of [start, end] from the price table; raw usage
    is not touched. Returns the rows repriced."""
    result = await session.execute(
        statements.REPRICE,
        {"start": start, "end": end},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
