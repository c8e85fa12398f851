"""Outbox → Kafka → inbox, against the real broker and database."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_messaging.publishing.producer import DurableProducer
from assistant_messaging.publishing.relay import OutboxRelay
from assistant_schemas.topics import Topic
from assistant_schemas.usage import UsageRecordedV1
from conftest import StartProbe, applied_counts, wait_until, write_to_outbox
from messaging_probe import probe


async def test_events_committed_to_the_outbox_are_applied_once(
    engine: AsyncEngine, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe()
    events = [probe.usage_event() for _ in range(50)]

    await write_to_outbox(engine, events, probe_topic)

    ids = [e.event_id for e in events]

    async def all_applied() -> bool:
        return all(n == 1 for n in (await applied_counts(engine, ids)).values())

    await wait_until(all_applied, timeout=30, what="50 events applied")
    async with engine.connect() as connection:
        left = await connection.scalar(
            select(func.count())
            .select_from(probe.messaging.outbox)
            .where(probe.messaging.outbox.c.topic == probe_topic.name)
        )
    assert left == 0, "published rows must leave the outbox"


async def test_the_same_event_delivered_twice_is_applied_once(
    engine: AsyncEngine, bootstrap: str, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe()
    event = probe.usage_event()
    later = probe.usage_event()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for _ in range(2):  # the exact same message, as a redelivery would bring it
            await producer.send_and_wait(probe_topic.name, event.to_json(), key=b"k")
        await producer.send_and_wait(probe_topic.name, later.to_json(), key=b"k")
    finally:
        await producer.stop()

    async def later_applied() -> bool:
        return (await applied_counts(engine, [later.event_id]))[later.event_id] == 1

    await wait_until(later_applied, timeout=30, what="the event behind the duplicate")
    assert (await applied_counts(engine, [event.event_id]))[event.event_id] == 1


async def test_two_consumers_in_one_group_and_two_relays_apply_each_event_once(
    engine: AsyncEngine, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe()
    await start_probe()  # a second instance: same group, its own outbox relay
    events = [probe.usage_event() for _ in range(300)]
    for start in range(0, 300, 30):
        await write_to_outbox(engine, events[start : start + 30], probe_topic)

    ids = [e.event_id for e in events]

    async def all_applied() -> bool:
        return all(n >= 1 for n in (await applied_counts(engine, ids)).values())

    await wait_until(all_applied, timeout=60, what="300 events applied")
    counts = await applied_counts(engine, ids)
    assert set(counts.values()) == {1}


async def test_one_relay_per_schema_publishes_and_another_takes_over_when_it_stops(
    engine: AsyncEngine,
    database_url: str,
    bootstrap: str,
    probe_schema: str,
    probe_topic: Topic,
    start_probe: StartProbe,
) -> None:
    producer = DurableProducer(bootstrap, client_id="first-relay")
    first = OutboxRelay(database_url=database_url, schema=probe_schema, producer=producer)
    running = asyncio.create_task(first.run())
    try:
        await wait_until(_as_check(lambda: first.leading), timeout=10, what="the first relay")
        instance = await start_probe()  # its consumer applies; its relay stands by
        before = [probe.usage_event() for _ in range(5)]
        await write_to_outbox(engine, before, probe_topic)
        await wait_until(_applied(engine, before), timeout=30, what="events the first relayed")
        assert not instance.relay.leading
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await producer.stop()

    after = [probe.usage_event() for _ in range(5)]
    await write_to_outbox(engine, after, probe_topic)
    await wait_until(_applied(engine, after), timeout=30, what="events after the takeover")
    assert instance.relay.leading


def _as_check(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return condition()

    return check


def _applied(engine: AsyncEngine, events: list[UsageRecordedV1]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        counts = await applied_counts(engine, [event.event_id for event in events])
        return all(n == 1 for n in counts.values())

    return check


async def test_the_relay_claims_at_once_after_a_quiet_spell_then_at_most_once_per_cycle(
    engine: AsyncEngine, bootstrap: str, probe_topic: Topic, start_probe: StartProbe
) -> None:
    instance = await start_probe(outbox_min_cycle_ms=400)
    await wait_until(_as_check(lambda: instance.relay.leading), timeout=10, what="its relay")
    first, second, third = (probe.usage_event() for _ in range(3))

    committed_at = time.time()
    await write_to_outbox(engine, [first], probe_topic)
    await asyncio.sleep(0.1)
    await write_to_outbox(engine, [second], probe_topic)
    await asyncio.sleep(0.1)
    await write_to_outbox(engine, [third], probe_topic)

    # Kafka stamps a record when the relay appends it to a batch: one cycle, one moment.
    at_once, *together = sorted(await record_timestamps(bootstrap, probe_topic.name, 3))
    assert at_once - committed_at < 0.2, "after a quiet spell the first event goes out at once"
    assert together[0] - at_once >= 0.35, "the next cycle waits out the least cycle time"
    assert together[1] - together[0] < 0.05, "what was committed meanwhile went out together"


async def record_timestamps(bootstrap: str, topic: str, count: int) -> list[float]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    stamped: list[float] = []
    try:
        while len(stamped) < count:
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, f"only {len(stamped)} of {count} records arrived"
            stamped += [r.timestamp / 1000 for records in batches.values() for r in records]
    finally:
        await consumer.stop()
    return stamped
