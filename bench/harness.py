"""Shared set-up for benchmarks: the bench stack's addresses, a scratch schema, percentiles."""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import NamedTuple

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_db import create_engine, service_metadata
from assistant_messaging.kafka.admin import ensure_topics
from assistant_messaging.tables import (
    MessagingTables,
    add_messaging_tables,
    create_notify_trigger_sql,
)
from assistant_schemas import new_event
from assistant_schemas.topics import Topic, TopicSpec, dead_letter_topic, retry_topic
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from assistant_stack.cli import environment
from assistant_stack.profiles import PROFILES

PROFILE = PROFILES[os.environ.get("STACK_PROFILE", "bench")]
BOOTSTRAP = PROFILE.bootstrap_servers
DATABASE_URL = os.environ.get("DATABASE_URL", PROFILE.database_url)


def usage_event() -> UsageRecordedV1:
    return new_event(
        UsageRecordedV1,
        UsageRecordedPayload(
            request_id=uuid.uuid4(),
            usage_type="llm",
            provider="openai",
            model="gpt-4o-mini",
            input_tokens=812,
            output_tokens=230,
            latency_ms=412.5,
            ttft_ms=95.1,
        ),
        correlation_id=str(uuid.uuid4()),
        producer="bench",
        user_id=uuid.uuid4(),
    )


def messaging_tables(schema: str) -> MessagingTables:
    return add_messaging_tables(service_metadata(schema))


async def fresh_schema(schema: str) -> MessagingTables:
    """Drops and recreates `schema` with an outbox and an inbox (as migration 0001 makes)."""
    tables = messaging_tables(schema)
    metadata = tables.outbox.metadata
    async with _transaction() as connection:
        await connection.execute(_drop_schema(schema))
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(metadata.create_all)
        for statement in create_notify_trigger_sql(schema):
            await connection.execute(text(statement))
    return tables


@asynccontextmanager
async def _transaction() -> AsyncIterator[AsyncConnection]:
    """A transaction on the bench database, over a connection of its own."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    try:
        async with engine.begin() as connection:
            yield connection
    finally:
        await engine.dispose()


def _drop_schema(schema: str) -> TextClause:
    return text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def fresh_topic(name: str, service: str, partitions: int = 6) -> Topic:
    topic = Topic(name, "benchmark", (UsageRecordedV1,), key=("user_id",), partitions=partitions)
    hour = 3_600_000
    await ensure_topics(
        BOOTSTRAP,
        [
            TopicSpec(name, partitions, hour),
            TopicSpec(retry_topic(service), 1, hour),
            TopicSpec(dead_letter_topic(service), 1, hour),
        ],
    )
    return topic


async def remove_scratch(*, schema: str | None = None, topic: str, service: str) -> None:
    """Drops what `fresh_schema` and `fresh_topic` made, so that a round leaves nothing to
    slow the rounds after it down (autovacuum of its tables, a broker with ever more
    partitions): without this, the last rounds of a run came out a third slower."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.delete_topics([topic, retry_topic(service), dead_letter_topic(service)])
    finally:
        await admin.close()
    if schema is not None:
        async with _transaction() as connection:
            await connection.execute(_drop_schema(schema))


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 50):7.2f} ms  p99 {percentile(values, 99):7.2f} ms  "
        f"mean {statistics.fmean(values):7.2f} ms  (n={len(values)})"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_until_ready(
    command: list[str], ready_url: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.Popen[bytes]:
    """Starts a server process and returns once `ready_url` answers 200."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{command[2]} was not ready at {ready_url} within {timeout:g}s")


class SearchStack(NamedTuple):
    """A gateway and an ingestion process of their own, and an administrator on the enterprise
    plan (whose rate limits stay out of a measurement), logged in."""

    http: httpx.Client
    user: uuid.UUID
    headers: dict[str, str]


@contextmanager
def search_stack(name: str) -> Iterator[SearchStack]:
    """Runs the gateway and ingestion on the stack's Kafka and PostgreSQL (logging warnings
    only) until the block ends; `name` is the administrator's (registered unless it is
    already)."""
    gateway_port, ingestion_port = free_port(), free_port()
    env = {
        **os.environ,
        **environment(PROFILE),
        "BLOB_DIR": tempfile.mkdtemp(prefix="bench-blobs-"),
        "GATEWAY_HTTP_PORT": str(gateway_port),
        "INGESTION_HTTP_PORT": str(ingestion_port),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "INGESTION_LOG_LEVEL": "WARNING",
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": f"{name}@example.org",
    }
    processes = []
    try:
        for service, port in (("gateway", gateway_port), ("ingestion", ingestion_port)):
            processes.append(
                serve_until_ready(
                    [sys.executable, "-m", f"{service}_service", "serve"],
                    f"http://127.0.0.1:{port}/readyz",
                    env=env,
                    timeout=180,
                )
            )
        http = httpx.Client(base_url=f"http://127.0.0.1:{gateway_port}", timeout=60)
        password = "Bench-Eval-2026"
        http.post(  # or there already, from an earlier run
            "/v1/auth/register",
            json={"email": f"{name}@example.org", "username": name, "password": password},
        )
        token = http.post("/v1/auth/login", json={"login": name, "password": password}).json()
        session = {"Authorization": f"Bearer {token['access_token']}"}
        user = uuid.UUID(http.get("/v1/me", headers=session).json()["id"])
        http.patch(f"/v1/admin/users/{user}", json={"plan_tier": "enterprise"}, headers=session)
        # A key, not the session's access token, which expires during a long run.
        key = http.post(
            "/v1/api-keys", json={"name": "bench", "scopes": ["documents", "search"]},
            headers=session,
        ).json()["key"]  # fmt: skip
        yield SearchStack(http, user, {"Authorization": f"Bearer {key}"})
    finally:
        for process in processes:
            process.terminate()
            process.wait(60)
