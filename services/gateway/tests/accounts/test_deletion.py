"""Deleting an account removes it here and tells every other service, in one transaction."""

import json

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway_service.models import messaging, provider_credentials, users
from gateway_test_support import PASSWORD, Register, bearer


async def test_deleting_an_account_needs_the_password_and_publishes_account_deleted(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    headers = bearer(ada["access_token"])
    await client.put("/v1/credentials/openai", json={"api_key": "sk-" + "k" * 30}, headers=headers)

    refused = await client.request("DELETE", "/v1/me", json={"password": "guess"}, headers=headers)
    assert refused.status_code == 403

    deleted = await client.request("DELETE", "/v1/me", json={"password": PASSWORD}, headers=headers)
    assert deleted.status_code == 204
    user_id = ada["user"]["id"]
    assert (
        await connection.scalar(
            select(func.count()).select_from(users).where(users.c.id == user_id)
        )
        == 0
    )
    assert (
        await connection.scalar(
            select(func.count())
            .select_from(provider_credentials)
            .where(provider_credentials.c.user_id == user_id)
        )
        == 0
    )
    payloads = [
        json.loads(row.payload)
        for row in await connection.execute(
            select(messaging.outbox.c.payload).where(messaging.outbox.c.topic == "account.deleted")
        )
    ]
    assert [(p["user_id"], p["payload"]["reason"]) for p in payloads] == [
        (ada["user"]["id"], "user_request")
    ]
    login = await client.post("/v1/auth/login", json={"login": "ada", "password": PASSWORD})
    assert login.status_code == 401
