"""A notion_sync process against the local stack and a local Notion server (with its rate
limit on), and helpers to ask it for pages the way other services do: through Kafka."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from aiokafka import AIOKafkaConsumer
from assistant_fakes.notion import FakeNotion

from assistant_runtime.credentials_cipher import CredentialCipher, fingerprint
from assistant_schemas import new_event
from assistant_schemas.credentials import CredentialsUpdatedPayload, CredentialsUpdatedV1
from assistant_schemas.notion import NotionPageRequestedPayload, NotionPageRequestedV1
from service_process import ServiceProcess, free_port

RATE_PER_S = 20  # the local Notion's limit in most tests, for speed; the burst test uses Notion's 3


def new_token() -> str:
    return "secret_" + uuid.uuid4().hex + uuid.uuid4().hex[:8]


@dataclass
class LocalNotion:
    fake: FakeNotion
    url: str
    _server: uvicorn.Server

    @classmethod
    def start(cls, rate_per_s: float | None = RATE_PER_S) -> LocalNotion:
        fake = FakeNotion()
        fake.state.rate_per_s = rate_per_s
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(fake.app, port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the local Notion did not start"
            time.sleep(0.05)
        return cls(fake, f"http://127.0.0.1:{port}", server)

    def stop(self) -> None:
        self._server.should_exit = True

    def calls_of(self, token: str, method: str | None = None) -> list[tuple[str, str, str]]:
        return [c for c in self.fake.state.calls if c[0] == token and method in (None, c[1])]

    def pages_of(self, token: str) -> list[dict[str, Any]]:
        bot = self.fake.bot_id(token)
        return [p for p in self.fake.pages() if p["created_by"]["id"] == bot]


@dataclass
class NotionSync:
    """notion_sync as a process, restartable with the same settings."""

    env: dict[str, str]
    process: ServiceProcess = field(init=False)

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        port = free_port()
        self.process = ServiceProcess(
            "notion_sync_service", port, {**self.env, "NOTION_SYNC_HTTP_PORT": str(port)}
        )
        self.process.wait_ready(60)

    def stop(self) -> None:
        if self.process.process.poll() is None:
            self.process.terminate()


def start_notion_sync(notion: LocalNotion, key: str, **env: str) -> NotionSync:
    return NotionSync(
        {
            "CREDENTIALS_KEYS": key,
            "NOTION_SYNC_API_BASE_URL": notion.url,
            "NOTION_SYNC_RATE_PER_S": str(RATE_PER_S),
            "NOTION_SYNC_RETRY_BASE_DELAY_S": "0.2",
            **env,
        }
    )


def connect(user_id: uuid.UUID, token: str, key: str) -> CredentialsUpdatedV1:
    """The event the gateway publishes when a user sets their Notion token."""
    return new_event(
        CredentialsUpdatedV1,
        CredentialsUpdatedPayload(
            provider="notion",
            action="set",
            ciphertext=CredentialCipher(key).encrypt(token),
            fingerprint=fingerprint(token),
        ),
        correlation_id="test",
        producer="gateway",
        user_id=user_id,
    )


def page_request(
    user_id: uuid.UUID, parent_id: str | None, markdown: str, **fields: Any
) -> NotionPageRequestedV1:
    return new_event(
        NotionPageRequestedV1,
        NotionPageRequestedPayload(
            request_id=uuid.uuid4(), markdown=markdown, parent_id=parent_id, **fields
        ),
        correlation_id="test",
        producer="test",
        user_id=user_id,
    )


async def events_on(
    bootstrap: str, topic: str, match: Callable[[dict[str, Any]], bool], settle_s: float = 2.0
) -> list[dict[str, Any]]:
    """Every message of `topic` (from its start) whose decoded JSON matches, read until the
    topic has been quiet for `settle_s`."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(settle_s * 1000))
            if not batch:
                return found
            for records in batch.values():
                for record in records:
                    try:
                        message = json.loads(record.value or b"")
                    except ValueError:
                        continue  # a tombstone or a poison pill another test sent: no event
                    if match(message):
                        found.append(message)
    finally:
        await consumer.stop()


async def events_about(bootstrap: str, topic: str, request_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every message of `topic` whose payload names the request."""
    return await events_on(
        bootstrap, topic, lambda m: m["payload"]["request_id"] == str(request_id)
    )


async def eventually(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        await asyncio.sleep(0.2)


def long_document() -> str:
    """≥ 300 blocks: paragraphs over 5,000 characters, lists nested 4 deep, a 40-row table,
    code blocks."""
    parts = []
    for section in range(80):
        parts.append(f"## Section {section}\n\n" + "word " * 1100 + "\n")  # 5,500 characters
        parts.append("- a\n  - b\n    - c\n      - **d**\n")
        parts.append(f"```python\nprint({section})\n```\n")
    parts.append("| n | v |\n|---|---|\n" + "\n".join(f"| {i} | {i * i} |" for i in range(40)))
    return "\n".join(parts)


def max_calls_in_a_second(times: Iterator[float] | list[float]) -> int:
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
