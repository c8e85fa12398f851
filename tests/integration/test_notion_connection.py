"""A user's Notion connection: the token set at the gateway reaches notion_sync as ciphertext,
and its status is checked with a real notion-client call to a local Notion server."""

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from generation_stack import User, register
from notion_stack import LocalNotion

from assistant_runtime.credentials_cipher import CredentialCipher
from service_process import ServiceProcess, free_port

VALID = "secret_" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
REVOKED = "secret_" + uuid.uuid4().hex + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def services(notion: LocalNotion) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    notion.fake.state.tokens.add(VALID)
    env = {
        "CREDENTIALS_KEYS": CredentialCipher.generate_key(),
        "GATEWAY_JWT_SECRET": "n" * 40,
        "NOTION_SYNC_API_BASE_URL": notion.url,
    }
    gateway_port, sync_port = free_port(), free_port()
    gateway = ServiceProcess(
        "gateway_service", gateway_port, {**env, "GATEWAY_HTTP_PORT": str(gateway_port)}
    )
    sync = ServiceProcess(
        "notion_sync_service", sync_port, {**env, "NOTION_SYNC_HTTP_PORT": str(sync_port)}
    )
    try:
        gateway.wait_ready(60)
        sync.wait_ready(60)
        yield gateway, sync
    finally:
        gateway.terminate()
        sync.terminate()


def status_of(http: httpx.Client, user: User) -> dict[str, Any]:
    response = http.get("/v1/notion/connection", headers=user.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def eventually(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.3)


def test_a_connection_is_checked_against_notion_and_scoped_to_its_user(
    services: tuple[ServiceProcess, ServiceProcess], notion: LocalNotion
) -> None:
    gateway, sync = services
    with httpx.Client(base_url=f"http://127.0.0.1:{gateway.port}", timeout=30) as http:
        alice, bob, carol = register(http), register(http), register(http)
        assert status_of(http, alice)["status"] == "not_connected"

        put = http.put("/v1/credentials/notion", json={"api_key": VALID}, headers=alice.headers)
        assert put.status_code == 200, put.text
        eventually(lambda: status_of(http, alice)["status"] == "connected", "alice connected")
        connected = status_of(http, alice)
        assert connected["bot_name"] == "Local integration"
        assert connected["fingerprint"] == put.json()["fingerprint"]
        assert (VALID, "GET", "/v1/users/me") in notion.fake.state.calls  # a real call, her token

        assert status_of(http, bob)["status"] == "not_connected"  # never another's connection

        http.put("/v1/credentials/notion", json={"api_key": REVOKED}, headers=carol.headers)
        eventually(lambda: status_of(http, carol)["status"] == "invalid", "carol refused")
        assert "set a new one" in status_of(http, carol)["reason"]

        assert http.delete("/v1/notion/connection", headers=alice.headers).status_code == 204
        eventually(lambda: status_of(http, alice)["status"] == "not_connected", "disconnected")
    logs = "".join(gateway.output + sync.output)
    assert VALID not in logs
    assert REVOKED not in logs
