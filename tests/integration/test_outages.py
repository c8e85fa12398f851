"""Stopping the shared Kafka broker and PostgreSQL server. Runs after every other test."""

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db import create_engine
from assistant_schemas.topics import Topic
from assistant_stack import kafka, postgres
from assistant_stack.processes import stop
from assistant_stack.profiles import Profile
from conftest import StartProbe, applied_counts, wait_until, write_to_outbox
from messaging_probe import probe
from service_process import ServiceProcess, free_port

pytestmark = pytest.mark.outage


def stop_kafka(profile: Profile) -> None:
    assert stop("kafka", profile.data_dir), "the test stack's broker was not running"


async def test_a_broker_restart_while_producing_loses_nothing_committed_to_the_outbox(
    engine: AsyncEngine, profile: Profile, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe()
    events = []

    async def produce_for(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = [probe.usage_event() for _ in range(5)]
            await write_to_outbox(engine, batch, probe_topic)
            events.extend(batch)
            await asyncio.sleep(0.02)

    producing = asyncio.create_task(produce_for(12))
    await asyncio.sleep(2)
    await asyncio.to_thread(stop_kafka, profile)
    await asyncio.sleep(3)  # events keep being committed to the outbox while the broker is down
    await asyncio.to_thread(kafka.start, profile)
    await producing

    ids = [e.event_id for e in events]

    async def all_applied() -> bool:
        return all(n >= 1 for n in (await applied_counts(engine, ids)).values())

    await wait_until(
        all_applied, timeout=120, what=f"{len(ids)} events after the restart", interval=1
    )
    assert set((await applied_counts(engine, ids)).values()) == {1}


def test_readyz_follows_kafka_and_postgres_going_down_and_coming_back(profile: Profile) -> None:
    port = free_port()
    service = ServiceProcess("analytics_service", port, {"ANALYTICS_HTTP_PORT": str(port)})
    try:
        service.wait_ready(timeout=60)

        stop_kafka(profile)
        service.wait_ready(timeout=60, ready=False)
        response = service.readyz()
        assert response is not None
        assert response.json()["checks"]["kafka"] is False
        kafka.start(profile)
        service.wait_ready(timeout=90)

        postgres.stop(profile)
        service.wait_ready(timeout=30, ready=False)
        response = service.readyz()
        assert response is not None
        assert response.json()["checks"]["database"] is False
        postgres.start(profile)
        service.wait_ready(timeout=60)
    finally:
        service.stop()
        kafka.start(profile)  # leave the stack as we found it, whatever failed
        postgres.start(profile)


async def test_pooled_connections_are_replaced_after_a_database_restart(
    profile: Profile, database_url: str
) -> None:
    engine = create_engine(database_url, pool_size=3)
    try:

        async def query() -> int:
            async with engine.connect() as connection:
                return int(await connection.scalar(text("SELECT 1")) or 0)

        assert list(await asyncio.gather(query(), query(), query())) == [1, 1, 1]  # pool filled
        await asyncio.to_thread(postgres.stop, profile)
        await asyncio.to_thread(postgres.start, profile)
        await asyncio.sleep(0.2)  # the loop sees the old sockets close
        # Every pooled connection is dead; not one query may fail because of it.
        assert list(await asyncio.gather(*(query() for _ in range(6)))) == [1] * 6
    finally:
        await engine.dispose()
