"""The gateway and generation under hostile and careless traffic, end to end: poison requests
mixed with good ones, null records on every topic they consume, a tenant whose own endpoint
fails, and errors that must leave the client's connection usable."""

import asyncio
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from generation_stack import GenerationStack, User, final_status, register, start_generation_stack

from assistant_messaging.consuming.dlq import read_dead_letters
from assistant_messaging.kafka import headers as h
from assistant_schemas.topics import TOPICS

pytestmark = pytest.mark.stack

SERVICES = ("gateway", "generation")
Record = tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]  # topic, value, key, headers


@pytest.fixture(scope="module")
def stack() -> Iterator[GenerationStack]:
    yield from start_generation_stack()


def requested_event(user: User, prompt: str) -> bytes:
    """A `generation.requested` as another system might publish it, with `prompt`."""
    request_id = str(uuid.uuid4())
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": "generation.requested",
            "version": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
            "correlation_id": "hostile",
            "user_id": user.user_id,
            "producer": "crm",
            "payload": {
                "request_id": request_id,
                "provider": "mock",
                "model": "mock-1",
                "messages": [{"role": "user", "content": prompt}],
            },
        }
    ).encode()


async def publish(bootstrap: str, records: list[Record]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, value, key, headers in records:
            await producer.send(topic, value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


def test_poison_requests_mixed_with_good_ones_never_hold_the_good_ones_back(
    stack: GenerationStack, bootstrap: str
) -> None:
    users = []
    with stack.client() as http:
        users = [register(http) for _ in range(6)]
        refused = [
            http.post(
                "/v1/generations", json={"prompt": f"nul\x00{i}"}, headers=users[i % 6].headers
            )
            for i in range(150)
        ]
    assert {r.status_code for r in refused} == {422}
    assert all(r.json()["detail"].startswith("prompt:") for r in refused)
    marker = uuid.uuid4().hex.encode()
    direct: list[Record] = []
    for i in range(150):
        kind = i % 3
        if kind == 0:
            direct.append(("generation.requested", None, marker, []))
        elif kind == 1:
            direct.append(
                ("generation.requested", requested_event(users[0], f"x\x00{i}"), marker, [])
            )
        else:
            broken = [(h.ORIGINAL_TOPIC, b"generation.requested"), (h.ATTEMPT, b"\xff")]
            direct.append(("generation.retry", b"{}", marker, broken))

    accepted: list[tuple[User, str]] = []

    async def mixed() -> None:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
            sending = asyncio.create_task(publish(bootstrap, direct))
            for i in range(300):
                user = users[i % 6]
                response = await client.post(
                    "/v1/generations", json={"prompt": f"good {i}"}, headers=user.headers
                )
                assert response.status_code == 202, response.text
                accepted.append((user, response.json()["request_id"]))
            await sending

    asyncio.run(mixed())
    with stack.client() as http:
        finals = [final_status(http, user, request_id, timeout=90) for user, request_id in accepted]
    assert {f["status"] for f in finals} == {"succeeded"}, "nothing stays accepted"

    letters = asyncio.run(read_dead_letters(bootstrap, "generation"))
    ours = [r for r in letters if r.key == marker]
    assert len(ours) == 150, "every poison record dead-lettered once, with its reason"
    reasons = [h.to_dict(r.headers)[h.ERROR] for r in ours]
    assert sum("no value" in reason for reason in reasons) == 50
    assert sum("NUL character" in reason for reason in reasons) == 50
    assert sum("retry record" in reason for reason in reasons) == 50
    for service in (stack.gateway, stack.generation):
        ready = service.readyz()
        assert ready is not None
        assert ready.status_code == 200, ready.text


def test_a_null_record_on_every_topic_they_consume_is_dead_lettered(
    stack: GenerationStack, bootstrap: str
) -> None:
    """Event topics read by a consumer group; the cancellation topic (read by every instance)
    and the query topics (answered, not retried) included."""
    marker = uuid.uuid4().hex.encode()
    consumed = [
        (topic.name, service)
        for topic in TOPICS
        for service in topic.consumers
        if service in SERVICES and topic.name != "generation.cancel_requested"
    ]
    asyncio.run(publish(bootstrap, [(t, None, marker, []) for t in {t for t, _ in consumed}]))
    asyncio.run(publish(bootstrap, [("generation.cancel_requested", None, marker, [])]))

    async def dead_lettered() -> set[tuple[str, str]]:
        found = set()
        for _ in range(60):
            for service in SERVICES:
                for record in await read_dead_letters(bootstrap, service):
                    if record.key == marker:
                        found.add((h.to_dict(record.headers)[h.ORIGINAL_TOPIC], service))
            if found >= set(consumed):
                break
            await asyncio.sleep(0.5)
        return found

    assert asyncio.run(dead_lettered()) == set(consumed)
    with stack.client() as http:  # and both still serve
        user = register(http)
        answer = http.post(
            "/v1/generations",
            json={"prompt": "still there?"},
            headers={**user.headers, "Prefer": "wait=20"},
        )
    assert answer.status_code == 200, answer.text


def test_one_users_failing_endpoint_never_pauses_the_provider_for_another(
    stack: GenerationStack,
) -> None:
    with stack.client(timeout=60) as http:
        mallory, ada = register(http), register(http)
        own = http.put(
            "/v1/credentials/fake-openai",
            json={"api_key": "sk-mallory-" + "m" * 20, "base_url": f"{stack.upstream.url}/v1"},
            headers=mallory.headers,
        )
        assert own.status_code == 200, own.text
        for _ in range(6):  # past the breaker's five consecutive failures
            failed = http.post(
                "/v1/generations",
                json={"prompt": "x", "provider": "fake-openai", "model": "fail-500"},
                headers={**mallory.headers, "Prefer": "wait=30"},
            )
            assert failed.status_code >= 500
        paused = http.post(
            "/v1/generations",
            json={"prompt": "x", "provider": "fake-openai", "model": "fixed"},
            headers={**mallory.headers, "Prefer": "wait=30"},
        )
        healthy = http.post(
            "/v1/generations",
            json={"prompt": "x", "provider": "fake-openai", "model": "fixed"},
            headers={**ada.headers, "Prefer": "wait=30"},
        )
    assert paused.status_code == 503
    assert paused.json()["error_class"] == "circuit_open", "mallory's own circuit is open"
    assert healthy.status_code == 200, healthy.text


def test_the_connection_stays_usable_after_any_error_answer(stack: GenerationStack) -> None:
    with stack.client() as http:
        user = register(http)
        ports = set()
        for body in ({"prompt": "nul\x00"}, {"prompt": 7}, {"title": "x"}, {"prompt": "ok"}):
            response = http.post("/v1/generations", json=body, headers=user.headers)
            assert response.status_code in (202, 422), response.text
            stream = response.extensions["network_stream"]
            ports.add(stream.get_extra_info("client_addr")[1])
        search = http.get("/v1/search", params={"q": "x", "collections": ",".join("c" * 60)})
        assert search.status_code in (401, 422)
        ports.add(search.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(ports) == 1, "every answer on one kept-alive connection"
