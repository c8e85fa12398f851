"""Throttling password guessing: failed logins counted per account name and per client address
in PostgreSQL (so every gateway instance sees the same counts, as with the rate limits).

After an allowance of free failures each further one blocks that name (or address) for twice
as long as the one before — 1 s, 2 s, 4 s … up to 15 minutes — during which a login is
answered `429` with `Retry-After` before any password is checked. A name that belongs to no
account is counted and blocked exactly like one that does, so the answers say nothing about
which accounts exist. A successful login clears its account's count (not its address's: one
valid account must not let a guesser go on with others). Counts older than an hour start over.
The address is the connection's peer: behind a reverse proxy all clients share the proxy's,
which is why an address is allowed many more failures than an account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.models import login_failures

MAX_BLOCK_S = 900
FORGOTTEN_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Counted:
    """A name or an address whose failures are counted, with its free allowance."""

    key: str
    free_failures: int


def counted(login: str, address: str | None) -> list[Counted]:
    keys = [Counted(f"account:{login.strip().lower()}", 5)]
    if address:
        keys.append(Counted(f"address:{address}", 50))
    return keys


def block_s(failures: int, free_failures: int) -> int:
    """How long a name or address is blocked after its `failures`-th failure."""
    beyond = failures - free_failures
    return 0 if beyond <= 0 else min(MAX_BLOCK_S, 2 ** (beyond - 1))


class LoginThrottle:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def blocked_for_s(self, keys: list[Counted]) -> int:
        """Seconds until a login may be tried with these keys (0: now)."""
        remaining = await self._session.scalar(
            select(func.max(login_failures.c.blocked_until - func.statement_timestamp())).where(
                login_failures.c.key.in_([k.key for k in keys]),
                login_failures.c.blocked_until > func.statement_timestamp(),
            )
        )
        return 0 if remaining is None else max(1, math.ceil(remaining.total_seconds()))

    async def failed(self, keys: list[Counted]) -> None:
        for key in keys:
            failures = await self._session.scalar(
                insert(login_failures)
                .values(key=key.key, failures=1, last_failure_at=func.statement_timestamp())
                .on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "failures": case(
                            (
                                login_failures.c.last_failure_at
                                < func.statement_timestamp() - FORGOTTEN_AFTER,
                                1,
                            ),
                            else_=login_failures.c.failures + 1,
                        ),
                        "last_failure_at": func.statement_timestamp(),
                    },
                )
                .returning(login_failures.c.failures)
            )
            assert failures is not None
            seconds = block_s(failures, key.free_failures)
            if seconds:
                await self._session.execute(
                    update(login_failures)
                    .where(login_failures.c.key == key.key)
                    .values(blocked_until=func.statement_timestamp() + timedelta(seconds=seconds))
                )

    async def succeeded(self, login: str) -> None:
        account = counted(login, None)[0]
        await self._session.execute(
            delete(login_failures).where(login_failures.c.key == account.key)
        )
