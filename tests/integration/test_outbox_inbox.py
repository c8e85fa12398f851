"""Outbox → Kafka → inbox, against the real broker and database."""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_schemas.topics import Topic
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


async def test_events_committed_within_the_linger_are_published_in_one_cycle(
    engine: AsyncEngine, bootstrap: str, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe(outbox_linger_ms=400)
    first, second = probe.usage_event(), probe.usage_event()

    committed_at = time.time()
    await write_to_outbox(engine, [first], probe_topic)
    await asyncio.sleep(0.1)
    await write_to_outbox(engine, [second], probe_topic)

    # Kafka stamps a record when the relay appends it to a batch: one cycle, one moment.
    stamped = await record_timestamps(bootstrap, probe_topic.name, 2)
    assert min(stamped) - committed_at >= 0.35, "the relay waits out its linger first"
    assert max(stamped) - min(stamped) < 0.05, "both went out in the same cycle"


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
