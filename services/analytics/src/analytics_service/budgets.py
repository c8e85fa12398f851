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

from sqlalchemy.ext.asyncio import AsyncSession

from analytics_service import statements
from assistant_schemas import Envelope, new_event
from assistant_schemas.budget import (
    BudgetExceededPayload,
    BudgetExceededV1,
    BudgetLimits,
    BudgetUpdatedPayload,
    BudgetUpdatedV1,
)

State = Literal["ok", "soft_exceeded", "hard_exceeded"]


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
        """From a row of `statements.MONTH_COLUMNS`."""
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
        statements.LOCK_MONTHS, {"users": list(user_ids), "period": period or current_period()}
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
        statements.SET_STATES,
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
