"""Admission of work in one round trip: who is calling, whether their budget allows it, and
this request's count against their rate limit.

The statement counts the request only for an active caller whose credential carries the scope
and, where the budget is checked, whose month is not over a hard limit; it runs outside any
transaction, so the count commits at once, whatever the endpoint does next. This is the
gateway's hottest path: as several statements through SQLAlchemy it was most of the cost of
accepting a generation. It takes many requests at once: the endpoints' admissions are
coalesced (`CoalescedAdmissions`), one statement for those arriving while one is in flight.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from assistant_db import Statements
from assistant_db.coalescing import Coalescer
from gateway_service.admission.budgets import current_period
from gateway_service.admission.rate_limits import WINDOW, Decision, RateLimiter, window_of
from gateway_service.auth.callers import CALLER_COLUMNS, LIVE_KEY, STALE_USE, Caller, Credential
from gateway_service.models import SCHEMA

# Many requests at once ($1…$5: one element each), or one. $6 the period, $7 this window, $8
# the previous one. The caller as `auth.callers` finds it: a live API key by its hash, or the
# user of a verified token. A user's admitted requests of one family are counted together; each
# request's count is the window's new total less that user's requests after it in the batch.
# Each request's rows are looked up by key (LATERAL … LIMIT 1): planned for the batch as a
# whole, PostgreSQL would hash-join whole tables, which costs more the more users there are.
ADMIT = f"""
    WITH caller AS (
        SELECT i.n, i.family, u.id AS user_id, u.is_active, u.is_admin, u.plan_tier, k.scopes,
               k.id AS key_id, {STALE_USE} AS stale_use, b.state AS budget_state,
               u.is_active
               AND (k.scopes IS NULL OR cardinality(k.scopes) = 0 OR i.scope = ANY(k.scopes))
               AND NOT (i.check_budget AND b.state IS NOT DISTINCT FROM 'hard_exceeded')
                   AS admissible
        FROM unnest($1::text[], $2::uuid[], $3::text[], $4::bool[], $5::text[])
            WITH ORDINALITY AS i(key_hash, token_user, scope, check_budget, family, n)
        LEFT JOIN LATERAL (
            SELECT * FROM {SCHEMA}.access_keys k WHERE k.key_hash = i.key_hash AND {LIVE_KEY}
            LIMIT 1
        ) k ON true
        JOIN LATERAL (
            SELECT * FROM {SCHEMA}.users u WHERE u.id = coalesce(k.user_id, i.token_user) LIMIT 1
        ) u ON true
        LEFT JOIN LATERAL (
            SELECT b.state FROM {SCHEMA}.budget_projection b
            WHERE b.user_id = u.id AND b.period = $6 LIMIT 1
        ) b ON true
    ),
    used AS (
        UPDATE {SCHEMA}.access_keys SET last_used_at = now()
        WHERE id IN (SELECT key_id FROM caller WHERE stale_use)
    ),
    counted AS (
        INSERT INTO {SCHEMA}.rate_limit_windows AS w (user_id, family, window_start, count)
        SELECT user_id, family, $7, count(*) FROM caller WHERE admissible GROUP BY user_id, family
        ON CONFLICT (user_id, family, window_start) DO UPDATE SET count = w.count + excluded.count
        RETURNING w.user_id, w.family, w.count
    )
    SELECT {CALLER_COLUMNS}, c.n, c.budget_state,
           CASE WHEN c.admissible THEN k.count + 1 - count(*) FILTER (WHERE c.admissible)
               OVER (PARTITION BY c.user_id, c.family ORDER BY c.n DESC)
           END AS current_count,
           (SELECT p.count FROM {SCHEMA}.rate_limit_windows p
            WHERE p.user_id = c.user_id AND p.family = c.family AND p.window_start = $8
           ) AS previous_count
    FROM caller c LEFT JOIN counted k ON k.user_id = c.user_id AND k.family = c.family
"""  # noqa: S608 - the schema is a constant identifier; values are parameters
# A coalesced statement's most requests: far more than arrive during one.
MAX_COALESCED = 200


@dataclass(frozen=True)
class Query:
    """What one request asks of admission."""

    credential: Credential
    family: str
    scope: str
    check_budget: bool


Found = tuple[asyncpg.Record | None, datetime]  # the caller's row (None: nobody), and when


async def found(database: Statements, queries: Sequence[Query], now: datetime) -> list[Found]:
    """Each query's row (counted if admissible), in one statement."""
    window = window_of(now)
    rows = await database.fetch(
        ADMIT,
        [query.credential.api_key_hash for query in queries],
        [query.credential.user_id for query in queries],
        [query.scope for query in queries],
        [query.check_budget for query in queries],
        [query.family for query in queries],
        current_period(now),
        window,
        window - WINDOW,
    )
    by_position = {row["n"]: row for row in rows}
    return [(by_position.get(n), now) for n in range(1, len(queries) + 1)]


@dataclass(frozen=True)
class Admission:
    caller: Caller
    is_active: bool
    over_budget: bool
    decision: Decision | None  # None: not counted (inactive, out of scope, or over budget)


@dataclass(frozen=True)
class Gate:
    limiter: RateLimiter

    async def decided(
        self, database: Statements, query: Query, row: asyncpg.Record | None, now: datetime
    ) -> Admission | None:
        """The admission of a request from its row; a refused request's count is taken back
        (through `database`)."""
        if row is None:
            return None
        caller = Caller.of(row)
        decision = None
        if row["current_count"] is not None:
            decision = self.limiter.decide(
                caller.plan_tier,
                query.family,
                row["current_count"],
                row["previous_count"] or 0,
                now,
            )
            if not decision.allowed:
                await self.limiter.uncount(database, caller.user_id, query.family, now)
            await self.limiter.clean_up_now_and_then(database, now)
        return Admission(
            caller=caller,
            is_active=row["is_active"],
            over_budget=query.check_budget and row["budget_state"] == "hard_exceeded",
            decision=decision,
        )


class CoalescedAdmissions:
    """Admission queries of concurrent requests, sent as one statement
    (`assistant_db.coalescing`): one round trip and one commit for all that arrive while one
    is in flight; each request's answer then decided by `gate`."""

    def __init__(self, database: Callable[[], Awaitable[Statements]], gate: Gate) -> None:
        self._database = database
        self._gate = gate
        self._coalescer: Coalescer[Query, Found] = Coalescer(self._write, MAX_COALESCED)

    async def admission(self, query: Query) -> Admission | None:
        """The request's admission; None when its credential admits nobody."""
        row, now = await self._coalescer.submit(query)
        return await self._gate.decided(await self._database(), query, row, now)

    async def _write(self, queries: list[Query]) -> list[Found]:
        return await found(await self._database(), queries, datetime.now(UTC))
