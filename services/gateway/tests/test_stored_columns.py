"""What the gateway's handlers store, read back column by column: an account and its
settings, a session, an access key, a provider credential, failed logins, an idempotency key
and a rate-limit window."""

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_runtime.credentials_cipher import CredentialCipher, fingerprint, masked
from gateway_service.models import (
    access_keys,
    idempotency_keys,
    login_failures,
    provider_credentials,
    rate_limit_windows,
    refresh_tokens,
    user_settings,
    users,
)
from gateway_test_support import CREDENTIALS_KEY, PASSWORD, Register, bearer


async def row_of(connection: AsyncConnection, table: Table, **where: Any) -> dict[str, Any]:
    clauses = [table.c[name] == value for name, value in where.items()]
    return dict((await connection.execute(select(table).where(*clauses))).one()._mapping)


def without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


async def test_an_account_its_session_key_and_credential_are_stored_as_sent(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada", full_name="Ada Lovelace")
    user_id = uuid.UUID(ada["user"]["id"])
    headers = bearer(ada["access_token"])

    user = await row_of(connection, users, id=user_id)
    assert user["password_hash"].startswith("$argon2id$")
    assert user["created_at"] <= user["updated_at"]
    assert without(user, "password_hash", "created_at", "updated_at") == {
        "id": user_id,
        "email": "ada@example.org",
        "username": "ada",
        "full_name": "Ada Lovelace",
        "plan_tier": "solo",
        "is_admin": False,
        "is_active": True,
        "deactivated_at": None,
    }
    patched = {"default_model": "gpt-5-mini", "ui_preferences": {"theme": "dark"}}
    assert (await client.patch("/v1/me", json={"settings": patched}, headers=headers)).is_success
    settings = await row_of(connection, user_settings, user_id=user_id)
    assert without(settings, "updated_at") == {
        "user_id": user_id,
        "default_provider": None,
        "default_model": "gpt-5-mini",
        "notion_config": {},
        "ui_preferences": {"theme": "dark"},
    }

    token_hash = hashlib.sha256(ada["refresh_token"].encode()).hexdigest()
    session = await row_of(connection, refresh_tokens, token_hash=token_hash)
    assert session["user_id"] == user_id
    assert session["family_id"] is not None
    assert session["expires_at"] - session["issued_at"] > timedelta(days=1)
    assert (session["rotated_at"], session["revoked_at"]) == (None, None)

    created = await client.post(
        "/v1/api-keys", json={"name": "script", "scopes": ["generate"]}, headers=headers
    )
    key = created.json()
    stored_key = await row_of(connection, access_keys, id=uuid.UUID(key["id"]))
    assert without(stored_key, "created_at") == {
        "id": uuid.UUID(key["id"]),
        "user_id": user_id,
        "name": "script",
        "prefix": key["key"][:11],
        "key_hash": hashlib.sha256(key["key"].encode()).hexdigest(),
        "scopes": ["generate"],
        "expires_at": None,
        "last_used_at": None,
        "revoked_at": None,
    }

    secret = "sk-" + uuid.uuid4().hex * 2
    put = await client.put("/v1/credentials/openai", json={"api_key": secret}, headers=headers)
    assert put.status_code == 200, put.text
    credential = await row_of(connection, provider_credentials, user_id=user_id)
    assert CredentialCipher(CREDENTIALS_KEY).decrypt(credential["ciphertext"]) == secret
    assert without(credential, "id", "ciphertext", "created_at", "updated_at") == {
        "user_id": user_id,
        "provider": "openai",
        "fingerprint": fingerprint(secret),
        "masked": masked(secret),
        "base_url": None,
    }


async def test_a_failed_login_is_counted_per_name_and_per_address(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    await register("grace")
    wrong = await client.post("/v1/auth/login", json={"login": "GRACE", "password": "nope"})
    assert wrong.status_code == 401
    by_name = await row_of(connection, login_failures, key="account:grace")
    assert (by_name["failures"], by_name["blocked_until"]) == (1, None)
    assert by_name["last_failure_at"] is not None
    rows = (await connection.execute(select(login_failures.c.key))).scalars().all()
    assert any(key.startswith("address:") for key in rows)
    right = await client.post("/v1/auth/login", json={"login": "grace", "password": PASSWORD})
    assert right.status_code == 200
    assert not (
        await connection.execute(
            select(login_failures).where(login_failures.c.key == "account:grace")
        )
    ).first()  # forgotten once the right password is given


async def test_an_idempotent_upload_keeps_its_answer_and_counts_against_the_limit(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    user_id = uuid.UUID(ada["user"]["id"])
    headers = {**bearer(ada["access_token"]), "Idempotency-Key": "notes-1"}
    files = [("files", ("notes.txt", b"Column by column."))]
    accepted = await client.post("/v1/documents", files=files, headers=headers)
    assert accepted.status_code == 202, accepted.text
    kept = await row_of(connection, idempotency_keys, user_id=user_id, key="notes-1")
    assert kept["created_at"] is not None
    assert len(kept.pop("fingerprint")) == 64  # SHA-256 of the method, path and the form's parts
    assert without(kept, "created_at") == {
        "user_id": user_id,
        "key": "notes-1",
        "status_code": 202,
        "body": accepted.json(),
    }
    window = await row_of(connection, rate_limit_windows, user_id=user_id, family="upload")
    assert window["count"] == 1
    assert window["window_start"] is not None
