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
    """  # noqa: S608 - constants of this module and its callers only


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


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


@dataclass(frozen=True)
class Month:
    """A user's month: what they spent, the state last announced, the limits now, and the
    state the spend puts it in under them (`evaluated`)."""

    user_id: uuid.UUID
    period: str
    spent_usd: Decimal
    tokens: int
    requests: int
    unpriced_events: int
    state: State
    limits: BudgetLimits
    evaluated: State

    @classmethod
    def of(cls, row: Sequence[Any]) -> Month:
        """From a row of `MONTH_COLUMNS`."""
        *month, soft, hard, token_limit, evaluated = row
        limits = BudgetLimits(soft_limit_usd=soft, hard_limit_usd=hard, token_limit=token_limit)
        return cls(*month, limits=limits, evaluated=evaluated)  # type: ignore[misc]

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Month:
        """From a `MONTH_COLUMNS` row as PostgreSQL's JSON renders it (numbers parsed as
        Decimal or int)."""
        return cls.of(
            [uuid.UUID(item["user_id"]), item["period"], Decimal(item["spent_usd"])]
            + [item[key] for key in ("tokens", "requests", "unpriced_events", "state")]
            + [item[key] for key in ("soft_limit_usd", "hard_limit_usd", "token_limit")]
            + [item["evaluated"]]
        )

    def updated_event(self, correlation_id: str) -> BudgetUpdatedV1:
        payload = BudgetUpdatedPayload(
            period=self.period,
            spent_usd=self.spent_usd,
            tokens=self.tokens,
            soft_limit_usd=self.limits.soft_limit_usd,
            hard_limit_usd=self.limits.hard_limit_usd,
            token_limit=self.limits.token_limit,
            state=self.evaluated,
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
    if not always_announce:
        months = [month for month in months if month.evaluated != month.state]
    return await announce(session, months, correlation_id)


async def announce(
    session: AsyncSession, months: Sequence[Month], correlation_id: str
) -> list[Envelope[Any]]:
    """Records each month's evaluated state; returns `budget.updated` for each, and
    `budget.exceeded` for those that just crossed their hard limit."""
    if not months:
        return []
    await session.execute(
        SET_STATES,
        {
            "users": [month.user_id for month in months],
            "periods": [month.period for month in months],
            "states": [month.evaluated for month in months],
        },
    )
    events: list[Envelope[Any]] = []
    for month in months:
        events.append(month.updated_event(correlation_id))
        if month.evaluated == "hard_exceeded" and month.state != "hard_exceeded":
            events.append(month.exceeded_event(correlation_id))
    return events
