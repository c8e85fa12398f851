"""Rate limits per plan tier: counted in PostgreSQL, so every gateway instance shares them."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assistant_db import create_engine, driver_connection
from gateway_service.admission.dependencies import admitted
from gateway_service.admission.gate import Gate, Query, found
from gateway_service.admission.rate_limits import Decision, window_of
from gateway_service.auth.callers import Credential
from gateway_service.models import rate_limit_windows, users
from gateway_test_support import Register, admit_generation, admit_once, bearer, solo_user

SOLO_GENERATION = 100


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=20)
    yield engine
    await engine.dispose()


async def test_two_instances_racing_admit_exactly_the_limit(engine: AsyncEngine) -> None:
    """Two gates (as two gateway processes would have) share the counters in PostgreSQL."""
    user = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(insert(users).values(**solo_user(user)))
    instances = [Gate(), Gate()]
    moment = datetime.now(UTC).replace(second=5)

    async def one_request(gate: Gate) -> bool:
        async with engine.connect() as connection:
            admission = await admit_generation(
                gate, await driver_connection(connection), user, moment
            )
            assert admission is not None
            assert admission.decision is not None
            return admission.decision.allowed

    try:
        results = await asyncio.gather(*(one_request(instances[i % 2]) for i in range(130)))
        assert results.count(True) == SOLO_GENERATION
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(rate_limit_windows).where(rate_limit_windows.c.user_id == user)
            )
            await connection.execute(delete(users).where(users.c.id == user))


async def test_the_previous_minute_weighs_on_the_next_and_retry_after_says_when(
    connection: AsyncConnection,
) -> None:
    gate, user = Gate(), uuid.uuid4()
    await connection.execute(insert(users).values(**solo_user(user)))
    database = await driver_connection(connection)
    minute = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    async def upload(at: timedelta) -> Decision:
        admission = await admit_once(
            gate,
            database,
            Credential(user_id=user),
            family="upload",
            scope="documents",
            check_budget=False,
            now=minute + at,
        )
        assert admission is not None
        assert admission.decision is not None
        return admission.decision

    for _ in range(10):  # the whole upload budget of a solo user, late in a minute
        assert (await upload(timedelta(seconds=50))).allowed
    # 15 s into the next minute, 75% of the previous minute still counts: 7.5 + 1 <= 10.
    assert (await upload(timedelta(seconds=75))).allowed
    # Three more at the same moment: the first fits (7.5 + 2), then 7.5 + 3 > 10, refused with
    # a useful Retry-After.
    decisions = [await upload(timedelta(seconds=75)) for _ in range(3)]
    assert [decision.allowed for decision in decisions] == [True, False, False]
    refused = decisions[-1]
    assert 1 <= refused.retry_after_s <= refused.reset_s == 45
    headers = refused.headers()
    assert headers["RateLimit-Limit"] == "10"
    assert headers["RateLimit-Remaining"] == "0"
    assert headers["Retry-After"] == str(refused.retry_after_s)
    # Refused requests were not counted: the window holds the two admitted at 75 s.
    counted = await database.fetchval(
        "SELECT count FROM gateway.rate_limit_windows WHERE user_id = $1 AND window_start = $2",
        user,
        minute + timedelta(minutes=1),
    )
    assert counted == 2


async def test_a_refused_request_answers_429_with_the_headers(
    app: FastAPI, client: httpx.AsyncClient, register: Register
) -> None:
    @app.get("/test/upload", dependencies=[Depends(admitted("upload", scope="documents"))])
    async def upload_like() -> dict[str, bool]:
        return {"ok": True}

    ada = await register("ada")
    responses = [
        await client.get("/test/upload", headers=bearer(ada["access_token"])) for _ in range(11)
    ]
    assert [r.status_code for r in responses] == [200] * 10 + [429]
    assert responses[0].headers["ratelimit-limit"] == "10"
    assert responses[9].headers["ratelimit-remaining"] == "0"
    refused = responses[10]
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["type"].endswith("/rate-limited")
    assert "solo plan allows 10 requests a minute" in refused.json()["detail"]


async def test_requests_admitted_in_one_statement_each_get_their_own_count(
    connection: AsyncConnection,
) -> None:
    """What coalesced admissions rely on: a user's requests counted together, in order."""
    active, inactive = uuid.uuid4(), uuid.uuid4()
    await connection.execute(insert(users).values(**solo_user(active)))
    await connection.execute(insert(users).values(**solo_user(inactive), is_active=False))
    moment = datetime.now(UTC).replace(second=30)
    await connection.execute(
        insert(rate_limit_windows).values(
            user_id=active, family="generation", window_start=window_of(moment), count=98
        )
    )
    database = await driver_connection(connection)

    def asking(credential: Credential, family: str = "generation") -> Query:
        return Query(credential, family, scope="generate", check_budget=True)

    queries = [
        *(asking(Credential(user_id=active)) for _ in range(4)),
        asking(Credential(user_id=active), family="upload"),
        asking(Credential(api_key_hash="0" * 64)),  # no such key
        asking(Credential(user_id=inactive)),
    ]
    results = await found(database, [(query, None) for query in queries], moment)

    rows = [row for row, _ in results]
    assert [row["current_count"] for row in rows[:5] if row] == [99, 100, 101, 102, 1]
    assert rows[5] is None
    assert rows[6] is not None
    assert rows[6]["current_count"] is None  # inactive: not counted
    gate, allowed = Gate(), []
    for query, (row, at) in zip(queries[:4], results[:4], strict=True):
        admission = await gate.decided(database, query, row, at)
        assert admission is not None
        assert admission.decision is not None
        allowed.append(admission.decision.allowed)
    assert allowed == [True, True, False, False]  # 99 and 100 fit the solo limit of 100
    left = await connection.scalar(
        select(rate_limit_windows.c.count).where(
            rate_limit_windows.c.user_id == active, rate_limit_windows.c.family == "generation"
        )
    )
    assert left == SOLO_GENERATION  # the refused two were taken back


async def test_windows_too_old_to_count_are_dropped_once_a_window(
    connection: AsyncConnection,
) -> None:
    user = uuid.uuid4()
    await connection.execute(insert(users).values(**solo_user(user)))
    now = datetime.now(UTC).replace(second=10)
    stale = window_of(now) - timedelta(minutes=2)

    async def stale_rows() -> int:
        found = await connection.scalar(
            select(rate_limit_windows.c.count).where(
                rate_limit_windows.c.user_id == user, rate_limit_windows.c.window_start == stale
            )
        )
        return 0 if found is None else 1

    async def admit(at: datetime) -> None:
        await admit_generation(gate, await driver_connection(connection), user, at)

    gate = Gate()
    stale_row = {"user_id": user, "family": "generation", "window_start": stale, "count": 5}
    await connection.execute(insert(rate_limit_windows).values(**stale_row))
    await admit(now)
    assert await stale_rows() == 0
    await connection.execute(insert(rate_limit_windows).values(**stale_row))
    await admit(now + timedelta(seconds=5))  # the same window: cleaned up already
    assert await stale_rows() == 1
    await admit(now + timedelta(minutes=1))
    assert await stale_rows() == 0
