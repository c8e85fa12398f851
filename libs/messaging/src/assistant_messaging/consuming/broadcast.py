"""Broadcasts: every instance of a service reads every record of a topic from its end.

For a message that must reach whichever instance holds what it is about (a cancellation
reaches the one running the request): no consumer group, and only what is sent from the
start on matters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from assistant_messaging.kafka.tail_reader import tail_consumer
from assistant_schemas import ContractError, Envelope, decode_event
from assistant_schemas.topics import topic_of

log = structlog.get_logger(__name__)

Listener = Callable[[Any], Awaitable[None]]


class BroadcastListener:
    def __init__(
        self, bootstrap_servers: str, listeners: Mapping[type[Envelope[Any]], Listener]
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._listeners = dict(listeners)
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        topics = {topic_of(contract) for contract in self._listeners}
        partitions = [
            TopicPartition(topic.name, number)
            for topic in topics
            for number in range(topic.partitions)
        ]
        self._consumer = await tail_consumer(self._bootstrap, partitions)
        self._reader = asyncio.create_task(self._read(self._consumer), name="broadcasts")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        async for record in consumer:
            try:
                event = decode_event(record.value)
            except ContractError as error:
                log.warning("malformed broadcast ignored", error=error.reason)
                continue
            listener = self._listeners.get(type(event))
            if listener is None:
                continue  # another contract on the topic
            try:
                await listener(event)
            except Exception as error:  # a broadcast is not retried: the next one may do
                log.warning("broadcast listener failed", type=event.type, error=repr(error))
