"""The gateway's copy of the model catalogue: before generation has announced one, a
generation is refused with a clear 503 saying when to come back; an announcement older than
the one held is ignored."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from gateway_service.catalog import repository as catalog_projection
from gateway_test_support import Register, bearer, catalogue


async def test_before_any_announcement_a_generation_is_a_503_with_retry_after(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    await connection.execute(text("DELETE FROM gateway.catalog_projection"))
    tokens = await register()

    response = await client.post(
        "/v1/generations", json={"prompt": "hi"}, headers=bearer(tokens["access_token"])
    )

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "not announced its model catalogue" in response.json()["detail"]


async def test_an_older_announcement_never_replaces_a_newer_one(
    connection: AsyncConnection,
) -> None:
    await connection.execute(text("DELETE FROM gateway.catalog_projection"))
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await catalog_projection.record(session, catalogue(version=7, model="newer"))
        await catalog_projection.record(session, catalogue(version=6, model="older"))
        held = await catalog_projection.latest(session)

    assert held == catalogue(version=7, model="newer")
