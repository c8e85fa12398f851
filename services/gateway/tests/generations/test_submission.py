"""Submitting a generation: admitted with its work in one statement, also inside the
transaction of an `Idempotency-Key`, so a refused request leaves nothing behind."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from gateway_service.admission.rate_limits import window_of
from gateway_service.catalog import repository as catalog_projection
from gateway_service.models import rate_limit_windows
from gateway_test_support import Register, bearer, catalogue, work_of

SOLO_GENERATION = 100
BODY = {"prompt": "hi", "provider": "p", "model": "m"}


async def test_an_idempotent_generation_refused_at_the_limit_leaves_nothing_and_is_taken_later(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await catalog_projection.record(session, catalogue(version=2**40, model="m"))
        await session.commit()  # into the test's transaction, rolled back at its end
    tokens = await register()
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "k-1"}
    user_id = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    now = datetime.now(UTC)
    for window in (window_of(now), window_of(now) + timedelta(minutes=1)):  # a minute may turn
        await connection.execute(
            insert(rate_limit_windows).values(
                user_id=user_id, family="generation", window_start=window, count=SOLO_GENERATION
            )
        )

    before = await work_of(connection, user_id)  # registering announced the account already

    refused = await client.post("/v1/generations", json=BODY, headers=headers)

    assert refused.status_code == 429, refused.text
    assert await work_of(connection, user_id) == before  # no status, no claim, no event

    await connection.execute(
        delete(rate_limit_windows).where(rate_limit_windows.c.user_id == user_id)
    )
    accepted = await client.post("/v1/generations", json=BODY, headers=headers)
    replayed = await client.post("/v1/generations", json=BODY, headers=headers)

    assert accepted.status_code == replayed.status_code == 202, accepted.text
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["request_id"] == accepted.json()["request_id"]
    assert await work_of(connection, user_id) == tuple(count + 1 for count in before)
    counted = await connection.scalar(
        select(func.sum(rate_limit_windows.c.count)).where(rate_limit_windows.c.user_id == user_id)
    )
    assert counted == 2  # the replay is admitted, and counted, as any request
