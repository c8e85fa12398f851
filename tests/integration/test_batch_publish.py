"""The relay's batched publish against the real broker: each record lands where `send` would
have put it, in order within its partition, however many batches a partition takes."""

import uuid
from collections import defaultdict

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from assistant_messaging.kafka.admin import ensure_topics
from assistant_messaging.publishing.batch_publish import Record, publish_all
from assistant_schemas.topics import TopicSpec

PARTITIONS = 6


async def fresh_topic(bootstrap: str) -> str:
    name = f"probe.batches.{uuid.uuid4().hex[:10]}"
    await ensure_topics(bootstrap, [TopicSpec(name, PARTITIONS, 3_600_000)])
    return name


async def partitions_and_values(bootstrap: str, topic: str, count: int) -> dict[int, list[bytes]]:
    """Every record of `topic`, by partition, in offset order."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: dict[int, list[bytes]] = defaultdict(list)
    try:
        while sum(len(values) for values in found.values()) < count:
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, f"only {sum(map(len, found.values()))} of {count} records arrived"
            for partition, records in batches.items():
                found[partition.partition].extend(record.value or b"" for record in records)
    finally:
        await consumer.stop()
    return dict(found)


async def test_records_land_where_send_puts_them_in_order_across_several_batches(
    bootstrap: str,
) -> None:
    keys = [f"user-{n % 25}".encode() for n in range(600)]
    records = [
        Record("", key, f"{index:04d}".encode() + b"x" * 200, [("event-id", str(index).encode())])
        for index, key in enumerate(keys)
    ]
    # Small batches: each partition's records take several of them.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, max_batch_size=2048
    )
    await producer.start()
    try:
        batched, sent = await fresh_topic(bootstrap), await fresh_topic(bootstrap)
        await publish_all(producer, [Record(batched, r.key, r.value, r.headers) for r in records])
        for record in records:
            await producer.send(sent, record.value, key=record.key)
        await producer.flush()
    finally:
        await producer.stop()

    by_batch = await partitions_and_values(bootstrap, batched, len(records))
    by_send = await partitions_and_values(bootstrap, sent, len(records))
    assert by_batch == by_send
    assert len(by_batch) > 1, "the keys should spread over several partitions"
    for values in by_batch.values():
        assert values == sorted(values), "records keep their order within a partition"


async def test_records_without_a_key_are_published_too(bootstrap: str) -> None:
    topic = await fresh_topic(bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await publish_all(producer, [Record(topic, None, f"{n}".encode(), []) for n in range(40)])
    finally:
        await producer.stop()

    found = await partitions_and_values(bootstrap, topic, 40)
    assert sorted(int(v) for values in found.values() for v in values) == list(range(40))
