"""Admission of work in one round trip: who is calling, whether their budget allows it, and
this request's count against their rate limit.

The statement counts the request only for an active caller whose credential carries the scope
and, where the budget is checked, whose month is not over a hard limit; it runs outside any
transaction, so the count commits at once, whatever the endpoint does next. This is the
gateway's hottest path: as several statements through SQLAlchemy it was most of the cost of
accepting a generation.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from assistant_db import Statements
from gateway_service.admission.budgets import current_period
from gateway_service.admission.rate_limits import WINDOW, Decision, RateLimiter, window_of
from gateway_service.auth.callers import CALLER_COLUMNS, Caller, Credential
from gateway_service.models import SCHEMA

# After the caller CTE. $2 period, $3 scope, $4 whether the budget is checked, $5 family,
# $6 this window, $7 the previous one.
ADMIT = f""",
    budget AS (
        SELECT b.state FROM {SCHEMA}.budget_projection b
        WHERE b.user_id = (SELECT user_id FROM caller) AND b.period = $2
    ),
    admitted AS (
        SELECT c.user_id FROM caller c
        WHERE c.is_active
          AND (c.scopes IS NULL OR cardinality(c.scopes) = 0 OR $3 = ANY(c.scopes))
          AND NOT ($4 AND EXISTS (SELECT FROM budget WHERE state = 'hard_exceeded'))
    ),
    counted AS (
        INSERT INTO {SCHEMA}.rate_limit_windows AS w (user_id, family, window_start, count)
        SELECT user_id, $5, $6, 1 FROM admitted
        ON CONFLICT (user_id, family, window_start) DO UPDATE SET count = w.count + 1
        RETURNING w.count
    )
    SELECT {CALLER_COLUMNS},
           (SELECT state FROM budget) AS budget_state,
           (SELECT count FROM counted) AS current_count,
           (SELECT w.count FROM {SCHEMA}.rate_limit_windows w
            WHERE w.user_id = c.user_id AND w.family = $5 AND w.window_start = $7
           ) AS previous_count
    FROM caller c
"""  # noqa: S608 - the schema is a constant identifier; values are parameters


@dataclass(frozen=True)
class Admission:
    caller: Caller
    is_active: bool
    over_budget: bool
    decision: Decision | None  # None: not counted (inactive, out of scope, or over budget)


@dataclass(frozen=True)
class Gate:
    limiter: RateLimiter

    async def admit(
        self,
        database: Statements,
        credential: Credential,
        *,
        family: str,
        scope: str,
        check_budget: bool,
        now: datetime | None = None,
    ) -> Admission | None:
        """Counts the request and decides; None when the credential names no caller."""
        now = now or datetime.now(UTC)
        window = window_of(now)
        statement, first = credential.statement(ADMIT)
        row = await database.fetchrow(
            statement,
            first,
            current_period(now),
            scope,
            check_budget,
            family,
            window,
            window - WINDOW,
        )
        if row is None:
            return None
        caller = Caller.of(row)
        decision = None
        if row["current_count"] is not None:
            decision = self.limiter.decide(
                caller.plan_tier, family, row["current_count"], row["previous_count"] or 0, now
            )
            if not decision.allowed:
                await self.limiter.uncount(database, caller.user_id, family, now)
            await self.limiter.clean_up_now_and_then(database, now)
        return Admission(
            caller=caller,
            is_active=row["is_active"],
            over_budget=check_budget and row["budget_state"] == "hard_exceeded",
            decision=decision,
        )
