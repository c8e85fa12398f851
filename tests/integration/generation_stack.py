"""A gateway and a generation process against the local stack, and a fake LLM upstream that
speaks the OpenAI and Anthropic wire protocols — for end-to-end generation tests."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer
from assistant_fakes.llm import FakeLLM

from assistant_runtime.credentials_cipher import CredentialCipher
from service_process import ServiceProcess, free_port

PASSWORD = "Correct-Horse-42"
FAKE_MODELS = ("fixed", "fail-500", "overloaded-529", "limited-once", "slow-stream", "tiny")


class FakeUpstream:
    """The fake LLM served by uvicorn in a thread of the test process."""

    def __init__(self) -> None:
        self.fake = FakeLLM()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.fake.app, port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise AssertionError("fake upstream did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def calls(self, model: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.fake.state.calls if model is None or c["model"] == model]


@dataclass
class User:
    user_id: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {self.token}"}


def register(http: httpx.Client, email: str | None = None) -> User:
    name = f"u{uuid.uuid4().hex[:12]}"
    body = {"email": email or f"{name}@example.org", "username": name, "password": PASSWORD}
    created = http.post("/v1/auth/register", json=body)
    assert created.status_code == 201, created.text
    login = http.post("/v1/auth/login", json={"login": name, "password": PASSWORD}).json()
    return User(created.json()["id"], login["access_token"])


@dataclass
class GenerationStack:
    gateway: ServiceProcess
    generation: ServiceProcess
    upstream: FakeUpstream
    env: dict[str, str]
    admin_email: str
    admin: User | None = None  # registered once the stack is up

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    def client(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout)

    def restart_generation(self) -> None:
        self.generation = self._started("generation")

    def restart_gateway(self) -> None:
        """A new gateway process (on a new port), nothing of the old one's memory kept."""
        self.gateway.terminate()
        self.gateway = self._started("gateway")

    def _started(self, service: str) -> ServiceProcess:
        port = free_port()
        process = ServiceProcess(
            f"{service}_service", port, {**self.env, f"{service.upper()}_HTTP_PORT": str(port)}
        )
        process.wait_ready(60)
        return process


def start_generation_stack(**settings: str) -> Iterator[GenerationStack]:
    """The stack, its services' environment overridden by `settings`."""
    upstream = FakeUpstream()
    upstream.start()
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = {
        "CREDENTIALS_KEYS": CredentialCipher.generate_key(),
        "GATEWAY_JWT_SECRET": "j" * 40,
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": admin_email,
        "GENERATION_PROVIDER_KEYS": json.dumps(
            {"fake-openai": "server-key", "fake-anthropic": "server-key"}
        ),
        "GENERATION_HEARTBEAT_S": "0.5",
        "GENERATION_PROVIDER_RETRIES": "2",
        "GENERATION_FIRST_TOKEN_TIMEOUT_S": "5",
        "GENERATION_MOCK_TOKEN_DELAY_MS": "1",
        **settings,
    }
    gateway_port, generation_port = free_port(), free_port()
    gateway = ServiceProcess(
        "gateway_service", gateway_port, {**env, "GATEWAY_HTTP_PORT": str(gateway_port)}
    )
    generation = ServiceProcess(
        "generation_service", generation_port, {**env, "GENERATION_HTTP_PORT": str(generation_port)}
    )
    stack = GenerationStack(gateway, generation, upstream, env, admin_email)
    try:
        gateway.wait_ready(60)
        generation.wait_ready(60)
        configure_fake_providers(stack)
        yield stack
    finally:
        for process in (stack.gateway, stack.generation):
            if process.process.poll() is None:
                process.terminate()
        upstream.stop()


def configure_fake_providers(stack: GenerationStack) -> None:
    """Registers the fake upstream as two providers, with its scenario models."""
    with stack.client() as http:
        admin = stack.admin = register(http, stack.admin_email)
        for name, style, url in (
            ("fake-openai", "openai", f"{stack.upstream.url}/v1"),
            ("fake-anthropic", "anthropic", stack.upstream.url),
        ):
            put = http.put(
                f"/v1/admin/catalog/providers/{name}",
                json={"label": f"Fake {style}", "api_style": style, "base_url": url},
                headers=admin.headers,
            )
            assert put.status_code == 200, put.text
            for model in FAKE_MODELS:
                small = model == "tiny"
                put = http.put(
                    f"/v1/admin/catalog/models/{name}/{model}",
                    json={
                        "context_window": 400 if small else 100_000,
                        "max_output_tokens": 100 if small else 4096,
                        "input_price": "1",
                        "output_price": "2",
                    },
                    headers=admin.headers,
                )
                assert put.status_code == 200, put.text


def usage_records(bootstrap: str, request_id: str, settle_s: float = 3.0) -> list[dict[str, Any]]:
    """Every `usage.recorded` for the request, read from the start of the topic."""

    async def read() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            "usage.recorded",
            bootstrap_servers=bootstrap,
            group_id=f"t-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        found: list[dict[str, Any]] = []
        try:
            deadline = time.monotonic() + settle_s
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=300)
                for records in batches.values():
                    for record in records:
                        if record.value is None:
                            continue  # a tombstone another test sent: no event
                        try:
                            event = json.loads(record.value)
                        except ValueError:
                            continue  # a poison pill a fault test sent: no event either
                        if event["payload"]["request_id"] == request_id:
                            found.append(event)
        finally:
            await consumer.stop()
        return found

    return asyncio.run(read())


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, data) of a native `/v1/generations` stream."""
    name = "message"
    for line in lines:
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            yield name, json.loads(line[len("data: ") :])
            name = "message"


def final_status(http: httpx.Client, user: User, request_id: str, timeout: float = 20) -> Any:
    """The request's status once finished (the projection follows events, so it lags)."""
    deadline = time.monotonic() + timeout
    while True:
        status = http.get(f"/v1/requests/{request_id}", headers=user.headers).json()
        if status["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)
