"""Admission in one round trip: who is calling, whether their credential carries the scope and
their budget allows the request, its count against their rate limit, and the work it brings
(status rows and the events that start them), written if and only if it is admitted.

All of it is one statement, `sql/admit.sql`, the gateway's hottest path. Concurrent requests'
admissions are coalesced (`assistant_db.coalescing`): one statement for those arriving while
one is in flight. Admissions without work commit through a pool that does not wait for the
disk (a crash may forget the last counts, which only lets a caller a few requests more); with
work they commit durably, as a `202` is never lost. A request with a transaction of its own
(an idempotency key, say) is admitted inside it instead, committing with the rest.

Work is made before its admission, so its user must be known first: a verified token names
it, and an API key's user and scopes are looked up once per process (a key never changes hands
or scopes; whether it is still live is the admission's to say).
"""

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import asyncpg

from assistant_db import Statements
from assistant_db.coalescing import Coalescer
from assistant_messaging.publishing.outbox import Outbox
from gateway_service.admission.budgets import current_period
from gateway_service.admission.rate_limits import LIMITS_JSON, Decision, WindowCleaner, uncount
from gateway_service.auth.callers import Caller, Credential, identify
from gateway_service.requests.repository import Kind
from gateway_service.sql import statement

ADMIT = statement("admit")
# A coalesced statement's most requests: far more than arrive during one.
MAX_COALESCED = 200
# API keys whose user a process remembers; past it, it starts again.
MAX_KNOWN_KEYS = 100_000


@dataclass(frozen=True)
class Query:
    """What one request asks of admission."""

    credential: Credential
    family: str | None  # None: not rate limited
    scope: str
    check_budget: bool


class StatusRow(NamedTuple):
    """A request's status row as it is accepted (`requests.repository` reads it)."""

    id: uuid.UUID
    kind: Kind
    detail: dict[str, Any] = {}


@dataclass(frozen=True)
class Acceptance:
    """The work a request brings: status rows of one user, and the events (`outbox_row`s)
    that start them."""

    user_id: uuid.UUID
    requests: Sequence[StatusRow]
    events: Sequence[dict[str, Any]]


@dataclass(frozen=True)
class Known:
    """What a credential says before any lookup of what may change: its user and, for an API
    key, its scopes (both fixed when the key is made)."""

    user_id: uuid.UUID
    scopes: frozenset[str] | None = None  # None: a login session, every scope

    def allows(self, scope: str) -> bool:
        return self.scopes is None or not self.scopes or scope in self.scopes


Asked = tuple[Query, Acceptance | None]
Found = tuple[asyncpg.Record | None, datetime]  # the caller's row (None: nobody), and when


@dataclass(frozen=True)
class Admission:
    caller: Caller
    is_active: bool
    over_budget: bool
    # None: not counted (no family, or inactive, out of scope, or over budget)
    decision: Decision | None
    accepted: bool  # its work was written


async def found(database: Statements, asked: Sequence[Asked], now: datetime) -> list[Found]:
    """Each request's row (counted if admissible, its work written if admitted), in one
    statement."""
    rows = await database.fetch(ADMIT, *_arguments(asked, now))
    by_position = {row["n"]: row for row in rows}
    return [(by_position.get(n), now) for n in range(1, len(asked) + 1)]


def _arguments(asked: Sequence[Asked], now: datetime) -> list[Any]:
    """$1…$19 of `sql/admit.sql`."""
    queries = [query for query, _ in asked]
    works = [(n, work) for n, (_, work) in enumerate(asked, start=1) if work is not None]
    rows = [(n, request) for n, work in works for request in work.requests]
    events = [(n, event) for n, work in works for event in work.events]
    return [
        [query.credential.api_key_hash for query in queries],
        [query.credential.user_id for query in queries],
        [query.scope for query in queries],
        [query.check_budget for query in queries],
        [query.family for query in queries],
        [work.user_id if work is not None else None for _, work in asked],
        current_period(now),
        now,
        LIMITS_JSON,
        [n for n, _ in rows],
        [request.id for _, request in rows],
        [request.kind for _, request in rows],
        [json.dumps(request.detail) for _, request in rows],
        [n for n, _ in events],
        *Outbox.arrays([event for _, event in events]),
    ]


class Gate:
    """An admission from its row; a refused request's count is taken back."""

    def __init__(self) -> None:
        self._cleaner = WindowCleaner()

    async def decided(
        self, database: Statements, query: Query, row: asyncpg.Record | None, now: datetime
    ) -> Admission | None:
        if row is None:
            return None
        caller = Caller.of(row)
        decision = None
        if query.family is not None and row["counted"]:
            decision = Decision.of(row)
            if not decision.allowed:
                await uncount(database, caller.user_id, query.family, now)
            await self._cleaner.clean_up_once_a_window(database, now)
        return Admission(
            caller=caller,
            is_active=row["is_active"],
            over_budget=query.check_budget and row["budget_state"] == "hard_exceeded",
            decision=decision,
            accepted=row["accepted"],
        )


class Admissions:
    """Admissions of this process's requests: coalesced across concurrent requests, or inside
    a request's own transaction.

    `counting` is where counts alone commit (they may be lost in a crash), `accepting` where
    counts commit with the work they admit (durably)."""

    def __init__(
        self,
        counting: Callable[[], Awaitable[Statements]],
        accepting: Callable[[], Awaitable[Statements]],
    ) -> None:
        self._counting = counting
        self._accepting = accepting
        self._gate = Gate()
        self._keys: dict[str, Known] = {}  # API key hash -> its user and scopes
        self._alone: Coalescer[Asked, Found] = Coalescer(self._write_counts, MAX_COALESCED)
        self._with_work: Coalescer[Asked, Found] = Coalescer(self._write_work, MAX_COALESCED)

    async def known(self, credential: Credential) -> Known | None:
        """Whose work the credential's request would be, and what it may do (it may be
        refused all the same); None: the credential admits nobody."""
        if credential.api_key_hash is None:
            assert credential.user_id is not None
            return Known(credential.user_id)
        known = self._keys.get(credential.api_key_hash)
        if known is None:
            row = await identify(await self._counting(), credential)
            if row is None:
                return None
            known = self._remember(credential.api_key_hash, row)
        return known

    async def admission(
        self,
        query: Query,
        work: Acceptance | None = None,
        transaction: Statements | None = None,
    ) -> Admission | None:
        """The request's admission (None when its credential admits nobody), its `work`
        written if and only if it is admitted: in `transaction` if given, else on its own
        commit with the requests admitted meanwhile."""
        if transaction is not None:
            [(row, now)] = await found(transaction, [(query, work)], datetime.now(UTC))
            database = transaction
        elif work is None:
            row, now = await self._alone.submit((query, None))
            database = await self._counting()
        else:
            row, now = await self._with_work.submit((query, work))
            database = await self._accepting()
        key = query.credential.api_key_hash
        if row is not None and key is not None and key not in self._keys:
            self._remember(key, row)
        return await self._gate.decided(database, query, row, now)

    def _remember(self, key: str, row: asyncpg.Record) -> Known:
        if len(self._keys) >= MAX_KNOWN_KEYS:
            self._keys.clear()
        scopes = row["scopes"]
        known = Known(row["user_id"], None if scopes is None else frozenset(scopes))
        self._keys[key] = known
        return known

    async def _write_counts(self, asked: list[Asked]) -> list[Found]:
        return await found(await self._counting(), asked, datetime.now(UTC))

    async def _write_work(self, asked: list[Asked]) -> list[Found]:
        return await found(await self._accepting(), asked, datetime.now(UTC))
