"""Many records published at once through aiokafka's batch API.

`AIOKafkaProducer.send` costs each record a partitioner call (murmur2 in pure Python), a
delivery future and a pass through the accumulator: about 12 µs of the relay's 30 µs per
event. Here the records are grouped by partition into one `BatchBuilder` each, and the
partition of a key is remembered, so a cycle of a thousand rows pays for a handful of batches.
The partition of a key is the one the default partitioner gives, so records keep the partition
(and the order) `send` would have given them.
"""

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    return murmur2(key) & 0x7FFFFFFF  # type: ignore[no-any-return]


def partition_of(key: bytes | None, partitions: list[int]) -> int:
    """The default partitioner's choice: murmur2 of the key, or any partition without one."""
    if key is None:
        return random.choice(partitions)  # noqa: S311 - spreading load, not a secret
    return partitions[_key_hash(key) % len(partitions)]


def _appended(batch: Any, record: Record) -> bool:
    metadata = batch.append(
        key=record.key, value=record.value, timestamp=None, headers=record.headers
    )
    return metadata is not None


async def publish_all(client: AIOKafkaProducer, records: Iterable[Record]) -> None:
    """Publishes `records` (in order within each partition) and waits for every ack."""
    partitions: dict[str, list[int]] = {}
    open_batches: dict[tuple[str, int], Any] = {}  # aiokafka's BatchBuilder, untyped
    deliveries: list[asyncio.Future[Any]] = []
    for record in records:
        if record.topic not in partitions:
            partitions[record.topic] = sorted(await client.partitions_for(record.topic))
        partition = partition_of(record.key, partitions[record.topic])
        batch = open_batches.get((record.topic, partition))
        if batch is None:
            batch = client.create_batch()
        if not _appended(batch, record):
            # Full: send it; the partition's next batch, empty, takes any record.
            deliveries.append(await client.send_batch(batch, record.topic, partition=partition))
            batch = client.create_batch()
            _appended(batch, record)
        open_batches[record.topic, partition] = batch
    for (topic, partition), batch in open_batches.items():
        deliveries.append(await client.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*deliveries)
