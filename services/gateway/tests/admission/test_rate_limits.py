"""Rate limits per plan tier: counted in PostgreSQL, so every gateway instance shares them."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from assistant_db import create_engine, session_factory
from gateway_service.admission.dependencies import rate_limited
from gateway_service.admission.rate_limits import RateLimiter
from gateway_service.models import rate_limit_windows
from gateway_test_support import Register, bearer

SOLO_GENERATION = 100


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=20)
    yield engine
    await engine.dispose()


async def test_two_instances_racing_admit_exactly_the_limit(engine: AsyncEngine) -> None:
    """Two limiters (as two gateway processes would be) share the counters in PostgreSQL."""
    user = uuid.uuid4()
    instances = [RateLimiter(), RateLimiter()]
    moment = datetime.now(UTC).replace(second=5)
    sessions = session_factory(engine)

    async def one_request(limiter: RateLimiter) -> bool:
        async with sessions() as session:
            decision = await limiter.admit(session, user, "solo", "generation", now=moment)
            await session.commit()
            return decision.allowed

    try:
        results = await asyncio.gather(*(one_request(instances[i % 2]) for i in range(130)))
        assert results.count(True) == SOLO_GENERATION
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(rate_limit_windows).where(rate_limit_windows.c.user_id == user)
            )


async def test_the_previous_minute_weighs_on_the_next_and_retry_after_says_when(
    connection: AsyncConnection,
) -> None:
    limiter, user = RateLimiter(), uuid.uuid4()
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        minute = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        for _ in range(10):  # the whole upload budget of a solo user, late in a minute
            assert (
                await limiter.admit(
                    session, user, "solo", "upload", now=minute + timedelta(seconds=50)
                )
            ).allowed
        # 15 s into the next minute, 75% of the previous minute still counts: 7.5 + 1 <= 10.
        early = await limiter.admit(
            session, user, "solo", "upload", now=minute + timedelta(seconds=75)
        )
        assert early.allowed
        # Three more at the same moment: 7.5 + 4 > 10, refused with a useful Retry-After.
        decisions = [
            await limiter.admit(session, user, "solo", "upload", now=minute + timedelta(seconds=75))
            for _ in range(3)
        ]
        refused = decisions[-1]
        assert not refused.allowed
        assert 1 <= refused.retry_after_s <= refused.reset_s == 45
        headers = refused.headers()
        assert headers["RateLimit-Limit"] == "10"
        assert headers["RateLimit-Remaining"] == "0"
        assert headers["Retry-After"] == str(refused.retry_after_s)


async def test_a_refused_request_answers_429_with_the_headers(
    app: FastAPI, client: httpx.AsyncClient, register: Register
) -> None:
    @app.get("/test/upload", dependencies=[Depends(rate_limited("upload"))])
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
