"""Provider credentials: validated per provider, stored encrypted, shown masked, sent as
ciphertext through the outbox, and only ever the caller's own."""

import json

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_runtime.credentials_cipher import CredentialCipher
from gateway_fixtures import client_for
from gateway_service.models import messaging, provider_credentials
from gateway_service.settings import GatewaySettings
from gateway_test_support import CREDENTIALS_KEY, JWT_SECRET, Register, bearer

OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


async def outbox_events(connection: AsyncConnection, user_id: str) -> list[dict[str, object]]:
    """This user's credential events still in the outbox (no relay runs in these tests)."""
    rows = await connection.execute(
        select(messaging.outbox.c.payload)
        .where(messaging.outbox.c.topic == "credentials.updated")
        .order_by(messaging.outbox.c.id)
    )
    events = [json.loads(row.payload) for row in rows]
    return [event for event in events if event["user_id"] == user_id]


async def test_a_credential_is_stored_and_shared_encrypted_and_shown_masked(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    response = await client.put(
        "/v1/credentials/openai", json={"api_key": OPENAI_KEY}, headers=bearer(ada["access_token"])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["masked"] == "sk-p…6789"
    assert len(body["fingerprint"]) == 12
    assert OPENAI_KEY not in response.text

    row = (
        await connection.execute(
            select(provider_credentials).where(provider_credentials.c.user_id == ada["user"]["id"])
        )
    ).one()
    assert OPENAI_KEY not in str(tuple(row))
    assert CredentialCipher(CREDENTIALS_KEY).decrypt(row.ciphertext) == OPENAI_KEY

    [event] = await outbox_events(connection, ada["user"]["id"])
    assert OPENAI_KEY not in json.dumps(event)
    assert event["user_id"] == ada["user"]["id"]
    payload = event["payload"]
    assert isinstance(payload, dict)
    assert payload["action"] == "set"
    assert CredentialCipher(CREDENTIALS_KEY).decrypt(payload["ciphertext"]) == OPENAI_KEY

    listing = await client.get("/v1/credentials", headers=bearer(ada["access_token"]))
    assert [c["provider"] for c in listing.json()] == ["openai"]
    assert OPENAI_KEY not in listing.text


async def test_setting_again_replaces_and_deleting_is_an_event_too(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    headers = bearer(ada["access_token"])
    await client.put("/v1/credentials/openai", json={"api_key": OPENAI_KEY}, headers=headers)
    second = await client.put(
        "/v1/credentials/openai",
        json={"api_key": OPENAI_KEY.replace("abc", "xyz")},
        headers=headers,
    )
    assert second.status_code == 200
    assert len((await client.get("/v1/credentials", headers=headers)).json()) == 1

    assert (await client.delete("/v1/credentials/openai", headers=headers)).status_code == 204
    assert (await client.delete("/v1/credentials/openai", headers=headers)).status_code == 404
    actions = [e["payload"]["action"] for e in await outbox_events(connection, ada["user"]["id"])]  # type: ignore[index]
    assert actions == ["set", "set", "deleted"]


@pytest.mark.parametrize(
    ("provider", "body", "field", "rule"),
    [
        ("anthropic", {"api_key": OPENAI_KEY}, "api_key", "key_prefix"),
        ("openai", {"api_key": "sk-short"}, "api_key", "key_length"),
        ("ollama", {"api_key": "two words"}, "api_key", "key_whitespace"),
        (
            "notion",
            {"api_key": "secret_" + "n" * 30, "base_url": "https://x.example"},
            "base_url",
            "not_allowed",
        ),
        ("Bad Name!", {"api_key": OPENAI_KEY}, "provider", "unknown_provider"),
        ("openai", {"api_key": OPENAI_KEY, "base_url": "not a url"}, "base_url", "url_parsing"),
        ("openai", {"key": OPENAI_KEY}, "key", "extra_forbidden"),
    ],
)
async def test_malformed_credentials_name_the_field_and_rule_and_change_nothing(
    client: httpx.AsyncClient,
    register: Register,
    connection: AsyncConnection,
    provider: str,
    body: dict[str, str],
    field: str,
    rule: str,
) -> None:
    ada = await register("ada")
    response = await client.put(
        f"/v1/credentials/{provider}", json=body, headers=bearer(ada["access_token"])
    )
    assert response.status_code == 422
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
    ]
    assert OPENAI_KEY not in response.text
    assert (
        await connection.execute(
            select(provider_credentials).where(provider_credentials.c.user_id == ada["user"]["id"])
        )
    ).first() is None
    assert await outbox_events(connection, ada["user"]["id"]) == []


async def test_an_openai_compatible_server_is_registered_by_name_and_base_url(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    response = await client.put(
        "/v1/credentials/local-vllm",
        json={"api_key": "token", "base_url": "http://127.0.0.1:8080/v1"},
        headers=bearer(ada["access_token"]),
    )
    assert response.status_code == 200
    assert response.json()["base_url"] == "http://127.0.0.1:8080/v1"


async def test_users_never_see_or_delete_each_others_credentials(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada, bob = await register("ada"), await register("bob")
    await client.put(
        "/v1/credentials/openai", json={"api_key": OPENAI_KEY}, headers=bearer(ada["access_token"])
    )
    assert (await client.get("/v1/credentials", headers=bearer(bob["access_token"]))).json() == []
    deleting = await client.delete("/v1/credentials/openai", headers=bearer(bob["access_token"]))
    assert deleting.status_code == 404
    assert (
        len((await client.get("/v1/credentials", headers=bearer(ada["access_token"]))).json()) == 1
    )


async def test_without_credentials_keys_the_server_says_so(
    register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    keyless = GatewaySettings(jwt_secret=SecretStr(JWT_SECRET), credentials_keys=None)
    async with client_for(keyless, connection) as client:
        response = await client.put(
            "/v1/credentials/openai",
            json={"api_key": OPENAI_KEY},
            headers=bearer(ada["access_token"]),
        )
    assert response.status_code == 503
    assert "CREDENTIALS_KEYS" in response.json()["detail"]


def test_old_ciphertext_still_decrypts_after_a_key_rotation() -> None:
    old = CredentialCipher(CREDENTIALS_KEY)
    ciphertext = old.encrypt(OPENAI_KEY)
    rotated = CredentialCipher(f"{CredentialCipher.generate_key()},{CREDENTIALS_KEY}")
    assert rotated.decrypt(ciphertext) == OPENAI_KEY
    assert rotated.decrypt(rotated.rotate(ciphertext)) == OPENAI_KEY
    with pytest.raises(ValueError, match="not made with any of CREDENTIALS_KEYS"):
        CredentialCipher(CredentialCipher.generate_key()).decrypt(ciphertext)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "https://127.0.0.1:8080/v1",
        "https://localhost/v1",
        "https://169.254.169.254/latest",
        "https://[::1]:11434/v1",
        "https://10.0.0.1/v1",
        "https://0.0.0.0/v1",
        "https://2130706433/v1",
    ],
)
async def test_by_default_a_base_url_to_an_internal_address_is_refused_and_nothing_stored(
    connection: AsyncConnection, base_url: str
) -> None:
    """The operator's allowlist is empty unless set (the test profile sets it for its local
    servers): a user cannot point the generation service at the machine or its network."""
    settings = GatewaySettings(
        jwt_secret=SecretStr(JWT_SECRET),
        credentials_keys=SecretStr(CREDENTIALS_KEY),
        outbound_allowed_networks="",
        outbound_allow_http=False,
    )
    async with client_for(settings, connection) as client:
        created = await client.post(
            "/v1/auth/register",
            json={"email": "m@example.org", "username": "mallory", "password": "Correct-Horse-42"},
        )
        login = await client.post(
            "/v1/auth/login", json={"login": "mallory", "password": "Correct-Horse-42"}
        )
        response = await client.put(
            "/v1/credentials/openai",
            json={"api_key": OPENAI_KEY, "base_url": base_url},
            headers=bearer(login.json()["access_token"]),
        )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "base_url"
    assert error["rule"] == "address_not_allowed"
    stored = await connection.scalar(
        select(provider_credentials.c.provider).where(
            provider_credentials.c.user_id == created.json()["id"]
        )
    )
    assert stored is None
