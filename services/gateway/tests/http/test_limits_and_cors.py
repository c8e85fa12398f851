"""Oversized bodies are refused before they are read; CORS answers only configured origins."""

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway_fixtures import client_for
from gateway_service.models import users
from gateway_service.settings import GatewaySettings
from gateway_test_support import JWT_SECRET, PASSWORD


async def test_a_body_over_the_limit_is_a_413_problem_and_writes_nothing(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    before = await connection.scalar(select(func.count()).select_from(users))
    huge = {
        "email": "big@example.org",
        "username": "big",
        "password": PASSWORD,
        "full_name": "x" * (2 * 1024 * 1024),
    }
    response = await client.post("/v1/auth/register", json=huge)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/body-too-large")
    assert await connection.scalar(select(func.count()).select_from(users)) == before


async def test_a_chunked_body_without_a_length_is_counted_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 64 * 1024

    response = await client.post(
        "/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("origin", "allowed"), [("https://app.example.org", True), ("https://evil.example", False)]
)
async def test_cors_answers_only_the_configured_origins(
    connection: AsyncConnection, origin: str, allowed: bool
) -> None:
    settings = GatewaySettings(
        jwt_secret=SecretStr(JWT_SECRET), cors_origins=["https://app.example.org"]
    )
    async with client_for(settings, connection) as client:
        response = await client.options(
            "/v1/me", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
    assert (response.headers.get("access-control-allow-origin") == origin) is allowed
