"""A consumer outside any group that reads partitions from their end: for messages addressed
to this process (replies) or to every process (broadcasts), where only new ones matter."""

import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition


async def tail_consumer(
    bootstrap_servers: str, partitions: list[TopicPartition]
) -> AIOKafkaConsumer:
    """Started, positioned at the current end of each partition (fixed before returning, so
    nothing sent after this call is missed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    consumer.assign(partitions)
    try:
        await consumer.start()
        await consumer.seek_to_end(*partitions)
        for partition in partitions:
            await consumer.position(partition)
    except BaseException:
        with contextlib.suppress(Exception):
            await consumer.stop()
        raise
    return consumer
