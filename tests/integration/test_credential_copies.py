"""A credential set at the gateway is copied, as the event carried it, into the service that
uses it: a provider key into generation, a Notion token into notion_sync — every column read
back, and a deletion removes the copy."""

import asyncio
import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from generation_stack import PASSWORD
from sqlalchemy.ext.asyncio import AsyncEngine
from table_rows import rows

from assistant_runtime.credentials_cipher import CredentialCipher, fingerprint
from service_process import ServiceProcess, free_port

SERVICES = ("gateway", "generation", "notion_sync")


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    processes = []
    try:
        for service in SERVICES:
            port = free_port()
            env = {f"{service.upper()}_HTTP_PORT": str(port)}
            processes.append(ServiceProcess(f"{service}_service", port, env))
        for process in processes:
            process.wait_ready(60)
        yield f"http://127.0.0.1:{processes[0].port}"
    finally:
        for process in processes:
            process.terminate()


async def copied(
    engine: AsyncEngine, sql: str, user_id: str, count: int
) -> list[dict[str, object]]:
    deadline = time.monotonic() + 30
    while True:
        found = [dict(row) for row in await rows(engine, sql, u=uuid.UUID(user_id))]
        if len(found) == count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_credentials_are_copied_column_by_column_and_removed(
    gateway: str, engine: AsyncEngine
) -> None:
    cipher = CredentialCipher(os.environ["CREDENTIALS_KEYS"])
    key = "sk-" + uuid.uuid4().hex * 2
    token = "ntn_" + uuid.uuid4().hex * 2
    async with httpx.AsyncClient(base_url=gateway) as http:
        name = f"c{uuid.uuid4().hex[:10]}"
        body = {"email": f"{name}@example.org", "username": name, "password": PASSWORD}
        user_id = (await http.post("/v1/auth/register", json=body)).json()["id"]
        login = await http.post("/v1/auth/login", json={"login": name, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        provider = {"api_key": key, "base_url": "http://127.0.0.1:9/v1"}
        assert (await http.put("/v1/credentials/openai", json=provider, headers=headers)).is_success
        notion = {"api_key": token}
        assert (await http.put("/v1/credentials/notion", json=notion, headers=headers)).is_success

        provider_sql = "SELECT * FROM generation.provider_credentials WHERE user_id = :u"
        connection_sql = "SELECT * FROM notion_sync.notion_connections WHERE user_id = :u"
        [kept] = await copied(engine, provider_sql, user_id, 1)
        assert cipher.decrypt(str(kept.pop("ciphertext"))) == key
        assert kept.pop("updated_at") is not None
        assert kept == {
            "user_id": uuid.UUID(user_id),
            "provider": "openai",
            "base_url": "http://127.0.0.1:9/v1",
            "fingerprint": fingerprint(key),
        }
        [connection] = await copied(engine, connection_sql, user_id, 1)
        assert cipher.decrypt(str(connection.pop("token_ciphertext"))) == token
        assert connection.pop("updated_at") is not None
        assert connection == {"user_id": uuid.UUID(user_id), "fingerprint": fingerprint(token)}

        for name in ("openai", "notion"):
            assert (
                await http.delete(f"/v1/credentials/{name}", headers=headers)
            ).status_code == 204
        assert await copied(engine, provider_sql, user_id, 0) == []
        assert await copied(engine, connection_sql, user_id, 0) == []
