"""A credential set at a real gateway process reaches Kafka as ciphertext only, and never
appears in clear in any log line or Kafka message."""

import asyncio
import uuid

import httpx
from aiokafka import AIOKafkaConsumer

from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_schemas import decode_event
from assistant_schemas.credentials import CredentialsUpdatedV1
from service_process import ServiceProcess, free_port

SECRET = "sk-ant-api03-" + uuid.uuid4().hex + uuid.uuid4().hex


async def credential_events(bootstrap: str, user_id: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        "credentials.updated",
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                found.extend(
                    record.value
                    for records in batches.values()
                    for record in records
                    if record.value and user_id.encode() in record.value  # not a tombstone
                )
    finally:
        await consumer.stop()
    return found


async def test_credentials_cross_kafka_as_ciphertext_and_never_in_clear(bootstrap: str) -> None:
    key = CredentialCipher.generate_key()
    port = free_port()
    gateway = ServiceProcess(
        "gateway_service",
        port,
        {
            "GATEWAY_HTTP_PORT": str(port),
            "CREDENTIALS_KEYS": key,
            "GATEWAY_LOG_LEVEL": "DEBUG",
            "GATEWAY_JWT_SECRET": "j" * 40,
        },
    )
    try:
        await asyncio.to_thread(gateway.wait_ready, 60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            name = f"u{uuid.uuid4().hex[:10]}"
            user = (
                await http.post(
                    "/v1/auth/register",
                    json={
                        "email": f"{name}@example.org",
                        "username": name,
                        "password": "Correct-Horse-42",
                    },
                )
            ).json()
            login = (
                await http.post(
                    "/v1/auth/login", json={"login": name, "password": "Correct-Horse-42"}
                )
            ).json()
            headers = {"Authorization": f"Bearer {login['access_token']}"}
            put = await http.put(
                "/v1/credentials/anthropic", json={"api_key": SECRET}, headers=headers
            )
            assert put.status_code == 200
            deleted = await http.delete("/v1/credentials/anthropic", headers=headers)
            assert deleted.status_code == 204

        messages = await credential_events(bootstrap, user["id"], 2)
    finally:
        gateway.stop()

    set_event, delete_event = (decode_event(m) for m in messages)
    assert isinstance(set_event, CredentialsUpdatedV1)
    assert set_event.payload.action == "set"
    assert set_event.payload.ciphertext is not None
    assert CredentialCipher(key).decrypt(set_event.payload.ciphertext) == SECRET
    assert delete_event.payload.action == "deleted"
    assert all(SECRET.encode() not in message for message in messages)
    output = "".join(gateway.output)
    assert '"path": "/v1/credentials/anthropic"' in output, "the request itself was logged"
    assert SECRET not in output
