"""Access API keys: shown once, stored hashed, usable as a bearer credential, scoped, revocable."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway_service.models import access_keys
from gateway_test_support import Register, bearer


async def test_a_key_is_shown_once_stored_hashed_and_works_as_a_credential(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    created = await client.post(
        "/v1/api-keys", json={"name": "ci"}, headers=bearer(ada["access_token"])
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(created.json()["prefix"] + "_")

    listing = (await client.get("/v1/api-keys", headers=bearer(ada["access_token"]))).json()
    assert [k["name"] for k in listing] == ["ci"]
    assert "key" not in listing[0]
    stored = (
        await connection.execute(
            select(access_keys).where(access_keys.c.user_id == ada["user"]["id"])
        )
    ).one()
    assert key not in str(tuple(stored)), "only the hash and the visible prefix are stored"

    me = await client.get("/v1/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    used = (await client.get("/v1/api-keys", headers=bearer(key))).json()[0]
    assert used["last_used_at"] is not None


async def test_revoked_and_expired_keys_are_rejected(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    headers = bearer(ada["access_token"])
    revoked = (await client.post("/v1/api-keys", json={"name": "a"}, headers=headers)).json()
    expiring = (
        await client.post(
            "/v1/api-keys",
            json={"name": "b", "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
            headers=headers,
        )
    ).json()

    assert (
        await client.delete(f"/v1/api-keys/{revoked['id']}", headers=headers)
    ).status_code == 204
    await connection.execute(
        update(access_keys)
        .where(access_keys.c.name == "b")
        # Expired a moment ago, after this test's transaction began (its now()): the check must
        # use the time of its own statement, or a slow machine sees the key as still live.
        .values(expires_at=func.statement_timestamp() - timedelta(milliseconds=1))
    )

    for key in (revoked["key"], expiring["key"]):
        response = await client.get("/v1/me", headers=bearer(key))
        assert response.status_code == 401
        assert "unknown, revoked or expired" in response.json()["detail"]


async def test_a_key_only_reaches_the_scopes_it_was_given(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    search_only = (
        await client.post(
            "/v1/api-keys",
            json={"name": "s", "scopes": ["search"]},
            headers=bearer(ada["access_token"]),
        )
    ).json()
    response = await client.get("/v1/me", headers=bearer(search_only["key"]))
    assert response.status_code == 403
    assert response.json()["required_scope"] == "account"


async def test_a_key_with_a_past_expiry_or_an_unknown_scope_is_refused(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    for body, field in (
        ({"name": "x", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["everything"]}, "scopes.0"),
        ({"name": ""}, "name"),
    ):
        response = await client.post("/v1/api-keys", json=body, headers=bearer(ada["access_token"]))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


async def test_users_never_see_or_revoke_each_others_keys(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada, bob = await register("ada"), await register("bob")
    adas = (
        await client.post(
            "/v1/api-keys", json={"name": "ada's"}, headers=bearer(ada["access_token"])
        )
    ).json()

    assert (await client.get("/v1/api-keys", headers=bearer(bob["access_token"]))).json() == []
    stolen = await client.delete(f"/v1/api-keys/{adas['id']}", headers=bearer(bob["access_token"]))
    assert stolen.status_code == 404
    assert (await client.get("/v1/me", headers=bearer(adas["key"]))).status_code == 200


async def test_a_key_cannot_grant_more_than_it_has(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    account_only = (
        await client.post(
            "/v1/api-keys",
            json={"name": "acct", "scopes": ["account"]},
            headers=bearer(ada["access_token"]),
        )
    ).json()["key"]

    for scopes in ([], ["generate"], ["account", "generate"]):
        refused = await client.post(
            "/v1/api-keys", json={"name": "more", "scopes": scopes}, headers=bearer(account_only)
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"].endswith("/scope-escalation")

    narrower = await client.post(
        "/v1/api-keys", json={"name": "same", "scopes": ["account"]}, headers=bearer(account_only)
    )
    assert narrower.status_code == 201
    generation = await client.post(
        "/v1/generations", json={"prompt": "hi"}, headers=bearer(narrower.json()["key"])
    )
    assert generation.status_code == 403
    names = [
        k["name"] for k in (await client.get("/v1/api-keys", headers=bearer(account_only))).json()
    ]
    assert sorted(names) == ["acct", "same"], "nothing was created by the refused requests"
