"""Fixtures for tests against the real local stack (`make test` starts it and sets the env)."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

import pytest
from notion_stack import LocalNotion
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db import create_engine, session_factory
from assistant_db.migrations import upgrade
from assistant_messaging.kafka.admin import ensure_topics
from assistant_messaging.publishing.outbox import Outbox
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.settings import ServiceSettings
from assistant_schemas import Envelope
from assistant_schemas.topics import Topic
from assistant_stack.profiles import PROFILES, Profile
from messaging_probe import probe


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that stop shared infrastructure run last, so they cannot disturb the others."""
    items.sort(key=lambda item: item.get_closest_marker("outage") is not None)


@pytest.fixture(scope="session")
def profile() -> Profile:
    name = os.environ.get("STACK_PROFILE")
    if not name:
        pytest.fail("integration tests need the local stack: run them with `make test`")
    return PROFILES[name]


@pytest.fixture(scope="module")
def notion() -> Iterator[LocalNotion]:
    """A local Notion server, its rate limit on, for one test module."""
    local = LocalNotion.start()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def database_url(profile: Profile) -> str:
    return os.environ.get("DATABASE_URL", profile.database_url)


@pytest.fixture(scope="session")
def bootstrap(profile: Profile) -> str:
    return profile.bootstrap_servers


@pytest.fixture(scope="session")
def probe_schema(database_url: str) -> str:
    upgrade(probe.MIGRATIONS, database_url, probe.SCHEMA)
    return probe.SCHEMA


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def service_name() -> str:
    return f"probe_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def probe_topic(bootstrap: str, service_name: str) -> Topic:
    topic = probe.probe_topic(f"probe.{service_name}")
    await ensure_topics(bootstrap, probe.topic_specs(service_name, topic))
    return topic


def probe_settings(**overrides: object) -> ServiceSettings:
    defaults: dict[str, object] = {
        "retry_base_delay_s": 0.2,
        "retry_max_attempts": 3,
        "shutdown_grace_s": 5,
    }
    return ServiceSettings(**{**defaults, **overrides})  # type: ignore[arg-type]


StartProbe = Callable[..., Awaitable[ServiceRuntime]]


@pytest.fixture
async def start_probe(
    probe_schema: str, service_name: str, probe_topic: Topic
) -> AsyncIterator[StartProbe]:
    """Starts in-process probe consumers (several share one consumer group); stops them all."""
    started: list[ServiceRuntime] = []

    async def start(external_effects: bool = False, **settings: object) -> ServiceRuntime:
        runtime = ServiceRuntime(
            probe.definition(service_name, probe_topic, external_effects=external_effects),
            probe_settings(**settings),
        )
        await runtime.start()
        await wait_until(lambda: is_ready(runtime), timeout=30, what="probe ready")
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()


async def is_ready(runtime: ServiceRuntime) -> bool:
    return (await runtime.readiness()).ready


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(interval)


async def write_to_outbox(
    engine: AsyncEngine, events: Iterable[Envelope[Any]], topic: Topic
) -> None:
    """Commits events to the probe's outbox, one transaction for all."""
    outbox = Outbox(probe.messaging.outbox)
    async with session_factory(engine)() as session, session.begin():
        await outbox.add_all(session, list(events), topic=topic)


async def applied_counts(
    engine: AsyncEngine, event_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    ids = list(event_ids)
    statement = (
        select(probe.applied.c.event_id, func.count())
        .where(probe.applied.c.event_id.in_(ids))
        .group_by(probe.applied.c.event_id)
    )
    async with engine.connect() as connection:
        found = {row[0]: row[1] for row in await connection.execute(statement)}
    return {event_id: found.get(event_id, 0) for event_id in ids}
