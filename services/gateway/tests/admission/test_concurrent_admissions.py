"""Admissions running at once (two workers, two gateways) never wait on each other in a cycle.

Each of these tests commits through two connections of its own, as two gateway processes
would, so its rows are removed at the end instead of rolled back."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from assistant_db.engine import asyncpg_dsn
from gateway_service.admission.gate import Query, found
from gateway_service.auth.callers import Credential, key_hash
from gateway_service.models import SCHEMA
from gateway_test_support import solo_user

USERS = 6
# Far less than PostgreSQL's deadlock check (1 s), and far more than a free lock takes.
UNBLOCKED_WITHIN_S = 0.5


def generation(credential: Credential) -> Query:
    return Query(credential, "generation", "generate", check_budget=True)


@pytest.fixture
async def users() -> AsyncIterator[list[uuid.UUID]]:
    """Committed users, in the order their counters are locked; removed afterwards."""
    ids = sorted(uuid.uuid4() for _ in range(USERS))
    connection = await asyncpg.connect(asyncpg_dsn(os.environ["DATABASE_URL"]))
    try:
        for user in ids:
            row = solo_user(user)
            await connection.execute(
                f"INSERT INTO {SCHEMA}.users (id, email, username, password_hash)"  # noqa: S608
                " VALUES ($1, $2, $3, $4)",
                *row.values(),
            )
        yield ids
    finally:
        for table in ("rate_limit_windows", "access_keys"):
            await connection.execute(
                f"DELETE FROM {SCHEMA}.{table} WHERE user_id = ANY($1)",  # noqa: S608
                ids,
            )
        await connection.execute(f"DELETE FROM {SCHEMA}.users WHERE id = ANY($1)", ids)  # noqa: S608
        await connection.close()


@pytest.fixture
async def two_connections() -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection]]:
    dsn = asyncpg_dsn(os.environ["DATABASE_URL"])
    # As the gateway's pools connect (`assistant_db.driver_pool`).
    settings = {"plan_cache_mode": "force_generic_plan"}
    first = await asyncpg.connect(dsn, server_settings=settings)
    second = await asyncpg.connect(dsn, server_settings=settings)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_two_statements_counting_the_same_users_lock_them_in_one_order(
    users: list[uuid.UUID], two_connections: tuple[asyncpg.Connection, asyncpg.Connection]
) -> None:
    first, second = two_connections
    now = datetime.now(UTC)
    await found(first, [(generation(Credential(user_id=user)), None) for user in users], now)
    # Whatever plan PostgreSQL picks: here the users are grouped by hashing, in no set order,
    # as it may plan a larger batch.
    await second.execute("SET enable_sort = off")
    holding = first.transaction()
    await holding.start()
    try:
        await found(first, [(generation(Credential(user_id=users[0])), None)], now)
        # All the users, listed last to first: it waits for the first user's counter, and so
        # must not hold any other meanwhile.
        waiting = asyncio.create_task(
            found(
                second, [(generation(Credential(user_id=user)), None) for user in users[::-1]], now
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
        async with asyncio.timeout(UNBLOCKED_WITHIN_S):
            await found(first, [(generation(Credential(user_id=users[-1])), None)], now)
    finally:
        await holding.commit()
    rows = await asyncio.wait_for(waiting, 5)
    counts = {row["user_id"]: row["current_count"] for row, _ in rows if row is not None}
    assert counts == {user: 3 if user in (users[0], users[-1]) else 2 for user in users}


async def test_a_keys_last_use_being_written_elsewhere_does_not_hold_its_admission(
    users: list[uuid.UUID], two_connections: tuple[asyncpg.Connection, asyncpg.Connection]
) -> None:
    first, second = two_connections
    secret = f"sk-{uuid.uuid4().hex}"
    await first.execute(
        f"INSERT INTO {SCHEMA}.access_keys (id, user_id, name, prefix, key_hash)"  # noqa: S608
        " VALUES ($1, $2, 'concurrent', $3, $4)",
        uuid.uuid4(),
        users[0],
        secret[:10],
        key_hash(secret),
    )
    key = Credential(api_key_hash=key_hash(secret))
    writing = first.transaction()
    await writing.start()
    try:
        # Another statement is writing the key's last use (its first), holding the key's row.
        await first.execute(
            f"SELECT 1 FROM {SCHEMA}.access_keys WHERE key_hash = $1 FOR UPDATE",  # noqa: S608
            key_hash(secret),
        )
        async with asyncio.timeout(UNBLOCKED_WITHIN_S):
            [(row, _)] = await found(second, [(generation(key), None)], datetime.now(UTC))
        assert row is not None
        assert row["user_id"] == users[0]
    finally:
        await writing.commit()
    # The use that went ahead is written the next time nothing holds the row.
    await found(second, [(generation(key), None)], datetime.now(UTC))
    last_used = await first.fetchval(
        f"SELECT last_used_at FROM {SCHEMA}.access_keys WHERE key_hash = $1",  # noqa: S608
        key_hash(secret),
    )
    assert last_used is not None
