"""Password guessing is throttled per login name and per address, across gateway instances."""

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway_fixtures import client_for
from gateway_service.auth.login_throttle import MAX_BLOCK_S, block_s
from gateway_service.models import login_failures
from gateway_service.settings import GatewaySettings
from gateway_test_support import CREDENTIALS_KEY, JWT_SECRET, PASSWORD, Register


def test_the_block_doubles_after_the_free_failures_up_to_a_cap() -> None:
    assert [block_s(n, 5) for n in range(1, 10)] == [0, 0, 0, 0, 0, 1, 2, 4, 8]
    assert block_s(100, 5) == MAX_BLOCK_S


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"login": name, "password": password})


@pytest.mark.parametrize("name", ["ada", "nobody-has-this-name"])
async def test_after_the_free_failures_even_the_right_password_waits(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection, name: str
) -> None:
    await register("ada")
    statuses = [(await login(client, name, "wrong-guess")).status_code for _ in range(6)]
    assert statuses == [401] * 6, "an unknown name is answered exactly like a known one"

    blocked = await login(client, name, PASSWORD)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert blocked.json()["type"].endswith("/login-throttled")
    assert 1 <= int(blocked.headers["retry-after"]) <= 2

    await connection.execute(update(login_failures).values(blocked_until=None))
    if name == "ada":
        assert (await login(client, name, PASSWORD)).status_code == 200
        left = await connection.scalar(
            select(login_failures.c.failures).where(login_failures.c.key == "account:ada")
        )
        assert left is None, "a successful login clears its account's count"


async def test_the_count_is_shared_by_every_gateway_instance(
    connection: AsyncConnection, register: Register
) -> None:
    await register("ada")
    settings = GatewaySettings(
        jwt_secret=SecretStr(JWT_SECRET), credentials_keys=SecretStr(CREDENTIALS_KEY)
    )
    async with (
        client_for(settings, connection) as first,
        client_for(settings, connection) as second,
    ):
        for client in (first, second, first, second, first, second):
            assert (await login(client, "ADA", "wrong")).status_code == 401
        assert (await login(first, "ada", PASSWORD)).status_code == 429
        assert (await login(second, "ada", PASSWORD)).status_code == 429
    stored = (
        await connection.execute(
            select(login_failures.c.failures, login_failures.c.blocked_until).where(
                login_failures.c.key == "account:ada"
            )
        )
    ).one()
    assert stored.failures == 6
    assert stored.blocked_until is not None
