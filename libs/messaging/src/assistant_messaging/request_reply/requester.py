"""Request/reply over Kafka, answered to the exact requester instance that asked.

Every requester process reads one partition of the shared reply topic, with no consumer group
(so no rebalance can move it), and sends its address — topic and partition — in the request's
headers. Responders publish the answer to that partition with an `in-reply-to` header naming
the request's event id. Two requesters that picked the same partition both see the other's
replies and drop them, so correctness never depends on the choice; spreading them only saves
reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from assistant_messaging.kafka import headers as h
from assistant_messaging.kafka.tail_reader import tail_consumer
from assistant_messaging.publishing.outbox import envelope_headers
from assistant_messaging.publishing.producer import DurableProducer
from assistant_schemas import Envelope, decode_event
from assistant_schemas.topics import REPLIES, REPLY_PARTITIONS, topic_for_event

log = structlog.get_logger(__name__)


class ReplyTimeout(TimeoutError):
    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"no reply to {what} within {seconds:g}s")


class ReplyStream:
    """The replies to one request, in the order the responder sent them."""

    def __init__(self, requester: Requester, request_id: str) -> None:
        self.request_id = request_id
        self._requester = requester
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    def deliver(self, value: bytes) -> None:
        self._queue.put_nowait(value)

    async def next(self, timeout: float) -> Envelope[Any]:
        try:
            value = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise ReplyTimeout(f"request {self.request_id}", timeout) from None
        return decode_event(value)

    def close(self) -> None:
        self._requester.forget(self.request_id)

    def __enter__(self) -> ReplyStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Requester:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        producer: DurableProducer,
        partition: int | None = None,
    ) -> None:
        self.partition = (
            partition if partition is not None else random.randrange(REPLY_PARTITIONS)  # noqa: S311
        )
        self._producer = producer
        self._bootstrap = bootstrap_servers
        self._consumer: AIOKafkaConsumer | None = None
        self._pending: dict[str, ReplyStream] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def reply_headers(self) -> dict[str, str]:
        return {h.REPLY_TOPIC: REPLIES, h.REPLY_PARTITION: str(self.partition)}

    async def start(self) -> None:
        partition = TopicPartition(REPLIES, self.partition)
        self._consumer = await tail_consumer(self._bootstrap, [partition])
        self._reader = asyncio.create_task(self._read(), name="reply-reader")

    async def stop(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer is not None:
            await self._consumer.stop()

    def open(self, request_id: str) -> ReplyStream:
        """Registers interest in replies to `request_id`; open before the request is sent."""
        stream = ReplyStream(self, request_id)
        self._pending[request_id] = stream
        return stream

    def forget(self, request_id: str) -> None:
        self._pending.pop(request_id, None)

    async def ask(self, event: Envelope[Any], *, timeout: float = 10.0) -> Envelope[Any]:
        """Sends a query and waits for its single answer (which may be `QueryFailedV1`)."""
        topic = topic_for_event(event)
        with self.open(str(event.event_id)) as stream:
            await self._producer.send_and_wait(
                topic.name,
                value=event.to_json(),
                key=topic.key_for(event),
                headers=h.to_kafka({**envelope_headers(event), **self.reply_headers}),
            )
            return await stream.next(timeout)

    async def _read(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            request_id = h.to_dict(record.headers).get(h.IN_REPLY_TO)
            stream = self._pending.get(request_id) if request_id else None
            if stream is not None and record.value is not None:
                stream.deliver(record.value)
