"""The budget projection mirrors analytics' newest word; over a hard limit means 402."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_db import driver_connection
from gateway_service.admission import budgets
from gateway_service.admission.dependencies import admitted
from gateway_service.admission.gate import Gate
from gateway_service.models import budget_projection, rate_limit_windows, users
from gateway_test_support import Register, admit_generation, bearer, solo_user


async def over_budget(connection: AsyncConnection, user: uuid.UUID) -> bool:
    """What admission says of the user's budget (and whether it counted the request)."""
    admission = await admit_generation(Gate(), await driver_connection(connection), user)
    assert admission is not None
    assert (admission.decision is None) == admission.over_budget  # refused work is not counted
    return admission.over_budget


async def test_an_older_event_never_overwrites_a_newer_one(connection: AsyncConnection) -> None:
    user, now = uuid.uuid4(), datetime.now(UTC)
    await connection.execute(insert(users).values(**solo_user(user)))
    period = budgets.current_period()
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await budgets.record(session, user, now, {"period": period, "state": "hard_exceeded"})
        await budgets.record(
            session, user, now - timedelta(seconds=5), {"period": period, "state": "ok"}
        )
        await session.flush()
        assert await over_budget(connection, user)
        await budgets.record(
            session, user, now + timedelta(seconds=5), {"period": period, "state": "ok"}
        )
        await session.flush()
        assert not await over_budget(connection, user)
        state = await session.scalar(
            select(budget_projection.c.state).where(budget_projection.c.user_id == user)
        )
        assert state == "ok"


async def test_last_months_excess_does_not_block_this_month(connection: AsyncConnection) -> None:
    user = uuid.uuid4()
    await connection.execute(insert(users).values(**solo_user(user)))
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await budgets.record(
            session, user, datetime.now(UTC), {"period": "2001-01", "state": "hard_exceeded"}
        )
        await session.flush()
    assert not await over_budget(connection, user)


async def test_a_user_over_a_hard_limit_is_refused_with_402(
    app: FastAPI, client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    @app.get(
        "/test/work",
        dependencies=[Depends(admitted("generation", scope="generate", budget=True))],
    )
    async def work() -> dict[str, bool]:
        return {"ok": True}

    ada = await register("ada")
    assert (await client.get("/test/work", headers=bearer(ada["access_token"]))).status_code == 200
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await budgets.record(
            session,
            uuid.UUID(ada["user"]["id"]),
            datetime.now(UTC),
            {"period": budgets.current_period(), "state": "hard_exceeded"},
        )
        await session.commit()
    refused = await client.get("/test/work", headers=bearer(ada["access_token"]))
    assert refused.status_code == 402
    assert refused.json()["type"].endswith("/budget-exceeded")
    counted = await connection.scalar(
        select(rate_limit_windows.c.count).where(
            rate_limit_windows.c.user_id == uuid.UUID(ada["user"]["id"])
        )
    )
    assert counted == 1  # the refused request did not count against the rate limit
