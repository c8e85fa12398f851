"""Administration: only administrators, paginated listing, plan tiers, deactivation."""

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway_fixtures import client_for
from gateway_service.settings import GatewaySettings
from gateway_test_support import CREDENTIALS_KEY, JWT_SECRET, PASSWORD, Register, bearer


@pytest.fixture
async def admin_token(connection: AsyncConnection) -> AsyncIterator[str]:
    """An administrator made the documented way: the bootstrap admin email."""
    settings = GatewaySettings(
        jwt_secret=SecretStr(JWT_SECRET),
        credentials_keys=SecretStr(CREDENTIALS_KEY),
        bootstrap_admin_email="Root@Example.org",
    )
    async with client_for(settings, connection) as bootstrap:
        created = await bootstrap.post(
            "/v1/auth/register",
            json={"email": "root@example.org", "username": "root", "password": PASSWORD},
        )
        assert created.json()["is_admin"] is True
        login = await bootstrap.post("/v1/auth/login", json={"login": "root", "password": PASSWORD})
        yield login.json()["access_token"]


async def test_only_administrators_reach_admin_endpoints(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    response = await client.get("/v1/admin/users", headers=bearer(ada["access_token"]))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/admin-only")


async def test_users_are_listed_a_page_at_a_time(
    client: httpx.AsyncClient, register: Register, admin_token: str
) -> None:
    for name in ("ada", "bob", "cyd"):
        await register(name)
    seen: list[str] = []
    url = "/v1/admin/users?limit=2"
    while url:
        page = (await client.get(url, headers=bearer(admin_token))).json()
        assert 1 <= len(page["items"]) <= 2
        seen.extend(user["username"] for user in page["items"])
        url = page["next_cursor"] and f"/v1/admin/users?limit=2&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)), "no user appears on two pages"
    assert {"root", "ada", "bob", "cyd"} <= set(seen)
    bad = await client.get("/v1/admin/users?cursor=nonsense", headers=bearer(admin_token))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


async def test_an_administrator_changes_plan_tiers_and_deactivates(
    client: httpx.AsyncClient, register: Register, admin_token: str
) -> None:
    ada = await register("ada")
    user_id = ada["user"]["id"]
    team = await client.patch(
        f"/v1/admin/users/{user_id}", json={"plan_tier": "team"}, headers=bearer(admin_token)
    )
    assert team.json()["plan_tier"] == "team"
    assert (await client.get("/v1/me", headers=bearer(ada["access_token"]))).json()[
        "plan_tier"
    ] == "team"

    wrong = await client.patch(
        f"/v1/admin/users/{user_id}", json={"plan_tier": "gold"}, headers=bearer(admin_token)
    )
    assert wrong.status_code == 422

    await client.patch(
        f"/v1/admin/users/{user_id}", json={"is_active": False}, headers=bearer(admin_token)
    )
    assert (await client.get("/v1/me", headers=bearer(ada["access_token"]))).status_code == 401
    refresh = await client.post("/v1/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert refresh.status_code == 401


async def test_an_administrator_cannot_lock_themselves_out(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    me = (await client.get("/v1/me", headers=bearer(admin_token))).json()
    response = await client.patch(
        f"/v1/admin/users/{me['id']}", json={"is_admin": False}, headers=bearer(admin_token)
    )
    assert response.status_code == 409
