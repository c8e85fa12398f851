"""Admission of work in one round trip: who is calling, whether their budget allows it, and
this request's count against their rate limit.

The statement counts the request only for an active caller whose credential carries the scope
and, where the budget is checked, whose month is not over a hard limit; it runs outside any
transaction, so the count commits at once, whatever the endpoint does next. This is the
gateway's hottest path: as several statements through SQLAlchemy it was most of the cost of
accepting a generation. It takes many requests at once: the endpoints' admissions are
coalesced (`CoalescedAdmissions`), one statement for those arriving while one is in flight.

A generation whose user is known before its admission (a verified token's, or an API key's
that this process has admitted before) is admitted and accepted by one statement
(`ADMIT_AND_ACCEPT`): its status row and its event are written if and only if it is admitted
within its rate limit, which that statement decides as `RateLimiter.decide` does.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from assistant_db import Statements
from assistant_db.coalescing import Coalescer
from assistant_messaging.outbox import Outbox
from gateway_service.admission.budgets import current_period
from gateway_service.admission.rate_limits import (
    WINDOW,
    Decision,
    RateLimiter,
    elapsed_of,
    window_of,
)
from gateway_service.auth.callers import CALLER_COLUMNS, LIVE_KEY, STALE_USE, Caller, Credential
from gateway_service.models import SCHEMA, messaging
from gateway_service.requests.acceptance import Acceptance

# Many requests at once ($1…$5: one element each), or one. $6 the period, $7 this window, $8
# the previous one. The caller as `auth.callers` finds it: a live API key by its hash, or the
# user of a verified token. A user's admitted requests of one family are counted together; each
# request's count is the window's new total less that user's requests after it in the batch.
# Each request's rows are looked up by key (LATERAL … LIMIT 1): planned for the batch as a
# whole, PostgreSQL would hash-join whole tables, which costs more the more users there are.
# Two statements (two workers, two gateways) may count the same users at once: each locks its
# users' counters in one order (user, then family), or the two could each hold a counter the
# other waits for, until PostgreSQL's deadlock check a second later failed one of them (seen as
# one-second stalls under load). A key's last use is written only if no other statement is
# writing it: that one records the same use.
COUNTED = f"""
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
        UPDATE {SCHEMA}.access_keys SET last_used_at = statement_timestamp()
        WHERE id IN (
            SELECT id FROM {SCHEMA}.access_keys
            WHERE id IN (SELECT key_id FROM caller WHERE stale_use)
            FOR UPDATE SKIP LOCKED
        )
    ),
    counted AS (
        INSERT INTO {SCHEMA}.rate_limit_windows AS w (user_id, family, window_start, count)
        SELECT user_id, family, $7, count(*) FROM caller WHERE admissible
        GROUP BY user_id, family ORDER BY user_id, family
        ON CONFLICT (user_id, family, window_start) DO UPDATE SET count = w.count + excluded.count
        RETURNING w.user_id, w.family, w.count
    ),
    decided AS (
        SELECT c.*,
               CASE WHEN c.admissible THEN k.count + 1 - count(*) FILTER (WHERE c.admissible)
                   OVER (PARTITION BY c.user_id, c.family ORDER BY c.n DESC)
               END AS current_count,
               (SELECT p.count FROM {SCHEMA}.rate_limit_windows p
                WHERE p.user_id = c.user_id AND p.family = c.family AND p.window_start = $8
               ) AS previous_count
        FROM caller c LEFT JOIN counted k ON k.user_id = c.user_id AND k.family = c.family
    )"""  # noqa: S608 - the schema is a constant identifier; values are parameters
DECIDED = f"""
    SELECT {CALLER_COLUMNS}, c.n, c.budget_state, c.current_count, c.previous_count
    FROM decided c"""  # noqa: S608 - constant columns
ADMIT = COUNTED + DECIDED

# The same, and for each request admitted within its rate limit, its status row and the event
# that starts it (one of each per request), in the same statement: the hot path's one round
# trip. $9 the limits per plan tier and family, $10 how much of this window has elapsed (the
# estimate `rate_limits.RateLimiter.decide` makes, in the same floating-point steps), $11…$13
# each request's expected user, id and kind, $14… its event (`Outbox.arrays`).
STAGE_ACCEPTED = Outbox(messaging.outbox).insert_sql(first=14, positions="(SELECT n FROM accepted)")
ADMIT_AND_ACCEPT = f"""{COUNTED},
    accepted AS (
        SELECT d.n, d.user_id FROM decided d
        JOIN unnest($11::uuid[]) WITH ORDINALITY AS e(user_id, n) ON e.n = d.n
        WHERE d.current_count IS NOT NULL AND d.user_id = e.user_id
          AND d.current_count + coalesce(d.previous_count, 0) * (1 - $10::float8)
              <= ($9::jsonb -> d.plan_tier ->> d.family)::float8
    ),
    recorded AS (
        INSERT INTO {SCHEMA}.requests (id, user_id, kind, status)
        SELECT r.id, a.user_id, r.kind, 'accepted'
        FROM unnest($12::uuid[], $13::text[]) WITH ORDINALITY AS r(id, kind, n)
        JOIN accepted a ON a.n = r.n
    ),
    staged AS ({STAGE_ACCEPTED})
   {DECIDED}"""  # noqa: S608 - as above
# A coalesced statement's most requests: far more than arrive during one.
MAX_COALESCED = 200
# API keys whose user a process remembers; past it, it starts again.
MAX_KNOWN_KEYS = 100_000


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
    rows = await database.fetch(ADMIT, *_admission_arguments(queries, now))
    return _by_position(rows, len(queries), now)


async def found_accepting(
    database: Statements,
    limiter: RateLimiter,
    queries: Sequence[tuple[Query, Acceptance]],
    now: datetime,
) -> list[Found]:
    """As `found`, and each acceptance written if its query is admitted within its limit."""
    acceptances = [acceptance for _, acceptance in queries]
    for acceptance in acceptances:
        if len(acceptance.requests) != 1 or len(acceptance.events) != 1:
            raise ValueError("an admitted acceptance is one request and its event")
    rows = await database.fetch(
        ADMIT_AND_ACCEPT,
        *_admission_arguments([query for query, _ in queries], now),
        limiter.limits_json,
        elapsed_of(now),
        [acceptance.user_id for acceptance in acceptances],
        [acceptance.requests[0][0] for acceptance in acceptances],
        [acceptance.requests[0][1] for acceptance in acceptances],
        *Outbox.arrays([acceptance.events[0] for acceptance in acceptances]),
    )
    return _by_position(rows, len(queries), now)


def _admission_arguments(queries: Sequence[Query], now: datetime) -> list[Any]:
    """$1…$8 of the admission statements."""
    window = window_of(now)
    return [
        [query.credential.api_key_hash for query in queries],
        [query.credential.user_id for query in queries],
        [query.scope for query in queries],
        [query.check_budget for query in queries],
        [query.family for query in queries],
        current_period(now),
        window,
        window - WINDOW,
    ]


def _by_position(rows: Sequence[asyncpg.Record], count: int, now: datetime) -> list[Found]:
    by_position = {row["n"]: row for row in rows}
    return [(by_position.get(n), now) for n in range(1, count + 1)]


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
            await self.limiter.clean_up_once_a_window(database, now)
        return Admission(
            caller=caller,
            is_active=row["is_active"],
            over_budget=query.check_budget and row["budget_state"] == "hard_exceeded",
            decision=decision,
        )


class CoalescedAdmissions:
    """Admission queries of concurrent requests, sent as one statement
    (`assistant_db.coalescing`): one round trip and one commit for all that arrive while one
    is in flight; each request's answer then decided by `gate`.

    Counts alone commit through `counting` (they may be lost in a crash); counts with the work
    they admit commit durably through `accepting`. A request whose API key this process has
    seen admitted can be accepted with its admission: the key's user is known (a key never
    changes hands), so its event can be made before the statement that admits it."""

    def __init__(
        self,
        counting: Callable[[], Awaitable[Statements]],
        gate: Gate,
        accepting: Callable[[], Awaitable[Statements]],
    ) -> None:
        self._counting = counting
        self._accepting = accepting
        self._gate = gate
        self._owners: dict[str, uuid.UUID] = {}  # API key hash -> its user
        self._admissions: Coalescer[Query, Found] = Coalescer(self._write, MAX_COALESCED)
        self._with_work: Coalescer[tuple[Query, Acceptance], Found] = Coalescer(
            self._write_accepting, MAX_COALESCED
        )

    def user_of(self, credential: Credential) -> uuid.UUID | None:
        """The credential's user if known without a lookup (it may be refused all the same)."""
        if credential.api_key_hash is None:
            return credential.user_id
        return self._owners.get(credential.api_key_hash)

    async def admission(self, query: Query) -> Admission | None:
        """The request's admission; None when its credential admits nobody."""
        row, now = await self._admissions.submit(query)
        return await self._decided(self._counting, query, row, now)

    async def admission_accepting(self, query: Query, acceptance: Acceptance) -> Admission | None:
        """As `admission`; the acceptance is written (durably, in the same statement) if and
        only if the request is admitted: active, in scope, within budget and rate limit."""
        row, now = await self._with_work.submit((query, acceptance))
        return await self._decided(self._accepting, query, row, now)

    async def _decided(
        self,
        database: Callable[[], Awaitable[Statements]],
        query: Query,
        row: asyncpg.Record | None,
        now: datetime,
    ) -> Admission | None:
        key = query.credential.api_key_hash
        if row is not None and key is not None and key not in self._owners:
            if len(self._owners) >= MAX_KNOWN_KEYS:
                self._owners.clear()
            self._owners[key] = row["user_id"]
        return await self._gate.decided(await database(), query, row, now)

    async def _write(self, queries: list[Query]) -> list[Found]:
        return await found(await self._counting(), queries, datetime.now(UTC))

    async def _write_accepting(self, queries: list[tuple[Query, Acceptance]]) -> list[Found]:
        return await found_accepting(
            await self._accepting(), self._gate.limiter, queries, datetime.now(UTC)
        )
