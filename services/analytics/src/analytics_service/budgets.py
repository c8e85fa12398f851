"""Monthly budgets: each user's spend against their limits, and the events that announce it.

A user's limits are their override if an administrator set one, else their plan tier's. The
month row is written by the consumer that owns the user's partition of `usage.recorded`, and
every other writer (a limit or plan change, a repricing) locks the row first, so a state
change is seen — and announced — exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics_service.ledger import MonthTotals
from assistant_schemas import Envelope, new_event
from assistant_schemas.budget import (
    BudgetExceededPayload,
    BudgetExceededV1,
    BudgetLimits,
    BudgetUpdatedPayload,
    BudgetUpdatedV1,
)

State = Literal["ok", "soft_exceeded", "hard_exceeded"]
DEFAULT_TIER = "solo"  # a user analytics has not yet heard a plan for

# Joined to rows `m` carrying a user_id: the limits that apply to that user.
LIMITS = f"""
    LEFT JOIN analytics.user_plans AS plan ON plan.user_id = m.user_id
    LEFT JOIN analytics.user_budgets AS own ON own.user_id = m.user_id
    LEFT JOIN analytics.tier_budgets AS tier
        ON tier.plan_tier = coalesce(plan.plan_tier, '{DEFAULT_TIER}')
"""
LIMIT_COLUMNS = """
    CASE WHEN own.user_id IS NULL THEN tier.soft_limit_usd ELSE own.soft_limit_usd END,
    CASE WHEN own.user_id IS NULL THEN tier.hard_limit_usd ELSE own.hard_limit_usd END,
    CASE WHEN own.user_id IS NULL THEN tier.token_limit ELSE own.token_limit END
"""
MONTH_COLUMNS = "m.user_id, m.period, m.spent_usd, m.tokens, m.requests, m.unpriced_events, m.state"

ADD_SPEND = text(
    f"""
    WITH delta AS (
        SELECT * FROM unnest(
            CAST(:users AS uuid[]), CAST(:periods AS text[]), CAST(:cost AS numeric[]),
            CAST(:tokens AS bigint[]), CAST(:requests AS bigint[]), CAST(:unpriced AS bigint[])
        ) AS d(user_id, period, spent_usd, tokens, requests, unpriced_events)
    ),
    m AS (
        INSERT INTO analytics.budget_months AS b
            (user_id, period, spent_usd, tokens, requests, unpriced_events)
        SELECT * FROM delta
        ON CONFLICT (user_id, period) DO UPDATE SET
            spent_usd = b.spent_usd + excluded.spent_usd,
            tokens = b.tokens + excluded.tokens,
            requests = b.requests + excluded.requests,
            unpriced_events = b.unpriced_events + excluded.unpriced_events,
            updated_at = now()
        RETURNING *
    )
    SELECT {MONTH_COLUMNS}, {LIMIT_COLUMNS} FROM m {LIMITS}
    """  # noqa: S608 - constants of this module only
)

LOCK_MONTHS = text(
    f"""
    SELECT {MONTH_COLUMNS}, {LIMIT_COLUMNS}
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


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def state_of(spent_usd: Decimal, tokens: int, limits: BudgetLimits) -> State:
    hard, soft, token_limit = limits.hard_limit_usd, limits.soft_limit_usd, limits.token_limit
    if (hard is not None and spent_usd >= hard) or (
        token_limit is not None and tokens >= token_limit
    ):
        return "hard_exceeded"
    if soft is not None and spent_usd >= soft:
        return "soft_exceeded"
    return "ok"


@dataclass(frozen=True)
class Month:
    """A user's month: what they spent, the state last announced, and the limits now."""

    user_id: uuid.UUID
    period: str
    spent_usd: Decimal
    tokens: int
    requests: int
    unpriced_events: int
    state: State
    limits: BudgetLimits

    @classmethod
    def of(cls, row: Sequence[Any]) -> Month:
        *month, soft, hard, tokens = row
        return cls(
            *month,
            limits=BudgetLimits(  # type: ignore[misc]
                soft_limit_usd=soft, hard_limit_usd=hard, token_limit=tokens
            ),
        )

    def evaluated(self) -> State:
        return state_of(self.spent_usd, self.tokens, self.limits)

    def updated_event(self, state: State, correlation_id: str) -> BudgetUpdatedV1:
        payload = BudgetUpdatedPayload(
            period=self.period,
            spent_usd=self.spent_usd,
            tokens=self.tokens,
            soft_limit_usd=self.limits.soft_limit_usd,
            hard_limit_usd=self.limits.hard_limit_usd,
            token_limit=self.limits.token_limit,
            state=state,
        )
        return new_event(
            BudgetUpdatedV1,
            payload,
            correlation_id=correlation_id,
            producer="analytics",
            user_id=self.user_id,
        )

    def exceeded_event(self, correlation_id: str) -> BudgetExceededV1:
        hard = self.limits.hard_limit_usd
        if hard is not None and self.spent_usd >= hard:
            payload = BudgetExceededPayload(
                period=self.period, limit_kind="cost", limit=hard, spent=self.spent_usd
            )
        else:
            assert self.limits.token_limit is not None
            payload = BudgetExceededPayload(
                period=self.period,
                limit_kind="tokens",
                limit=Decimal(self.limits.token_limit),
                spent=Decimal(self.tokens),
            )
        return new_event(
            BudgetExceededV1,
            payload,
            correlation_id=correlation_id,
            producer="analytics",
            user_id=self.user_id,
        )


async def add_spend(
    session: AsyncSession, totals: Sequence[MonthTotals], correlation_id: str
) -> list[Envelope[Any]]:
    """Adds a batch's totals to each user's month; returns the events of changed states."""
    if not totals:
        return []
    result = await session.execute(
        ADD_SPEND,
        {
            "users": [t.user_id for t in totals],
            "periods": [t.period for t in totals],
            "cost": [t.cost_usd for t in totals],
            "tokens": [t.tokens for t in totals],
            "requests": [t.requests for t in totals],
            "unpriced": [t.unpriced_events for t in totals],
        },
    )
    return await _announce_changes(session, [Month.of(row) for row in result], correlation_id)


async def reevaluate(
    session: AsyncSession,
    user_ids: Sequence[uuid.UUID],
    correlation_id: str,
    period: str | None = None,
    *,
    always_announce: bool = False,
) -> list[Envelope[Any]]:
    """Re-checks users' months against their limits now (after a limit, plan or price change).
    `always_announce` sends `budget.updated` even when the state stays (the limits changed)."""
    result = await session.execute(
        LOCK_MONTHS, {"users": list(user_ids), "period": period or current_period()}
    )
    months = [Month.of(row) for row in result]
    return await _announce_changes(session, months, correlation_id, always=always_announce)


async def _announce_changes(
    session: AsyncSession, months: Sequence[Month], correlation_id: str, *, always: bool = False
) -> list[Envelope[Any]]:
    changed = [(month, month.evaluated()) for month in months]
    changed = [(month, state) for month, state in changed if always or state != month.state]
    if not changed:
        return []
    await session.execute(
        SET_STATES,
        {
            "users": [month.user_id for month, _ in changed],
            "periods": [month.period for month, _ in changed],
            "states": [state for _, state in changed],
        },
    )
    events: list[Envelope[Any]] = []
    for month, state in changed:
        events.append(month.updated_event(state, correlation_id))
        if state == "hard_exceeded" and month.state != "hard_exceeded":
            events.append(month.exceeded_event(correlation_id))
    return events
