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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel

from assistant_messaging import headers as h
from assistant_messaging.outbox import envelope_headers
from assistant_messaging.producer import DurableProducer, Publisher
from assistant_messaging.tail_reader import tail_consumer
from assistant_schemas import ContractError, Envelope, decode_event, new_event
from assistant_schemas.queries import QueryFailedPayload, QueryFailedV1
from assistant_schemas.topics import REPLIES, REPLY_PARTITIONS, topic_for_event

log = structlog.get_logger(__name__)


AnswerT = TypeVar("AnswerT", bound=Envelope[Any])


def answer(
    query: Envelope[Any], contract: type[AnswerT], payload: BaseModel, producer: str
) -> AnswerT:
    """The reply to `query`: its correlation id and user, `payload` as `contract`."""
    return new_event(
        contract,
        payload,
        correlation_id=query.correlation_id,
        producer=producer,
        user_id=query.user_id,
    )


def refusal(query: Envelope[Any], status: int, reason: str, producer: str) -> QueryFailedV1:
    """The reply to a query that cannot be answered; `status` is what HTTP should say."""
    return answer(query, QueryFailedV1, QueryFailedPayload(status=status, reason=reason), producer)


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


QueryHandler = Callable[[Any], Awaitable[Envelope[Any]]]


class Responder:
    """Answers queries: publishes each reply to the partition the requester named."""

    def __init__(self, service: str, producer: Publisher) -> None:
        self.service = service
        self._producer = producer

    async def reply(
        self, request_headers: Mapping[str, str], request_id: str, event: Envelope[Any]
    ) -> None:
        topic = request_headers.get(h.REPLY_TOPIC)
        partition = request_headers.get(h.REPLY_PARTITION)
        if not topic or partition is None:
            log.warning("request has no reply address; answer dropped", request_id=request_id)
            return
        await self._producer.send_and_wait(
            topic,
            value=event.to_json(),
            partition=int(partition),
            headers=h.to_kafka({**envelope_headers(event), h.IN_REPLY_TO: request_id}),
        )

    def subscribe(
        self, broker: KafkaBroker, topic: str, handler: QueryHandler, *, concurrency: int = 16
    ) -> None:
        """Answers `topic` with up to `concurrency` queries in flight. Queries are not durable
        work: one lost in a crash is a requester's timeout, so offsets are committed on receipt
        and answers may go out of order."""

        @broker.subscriber(
            topic,
            group_id=f"{self.service}.queries",
            auto_offset_reset="latest",
            ack_policy=AckPolicy.ACK_FIRST,
            max_workers=concurrency,
            title=f"{self.service}.{topic}",
        )
        async def answer(message: KafkaMessage) -> None:
            record = message.raw_message
            assert not isinstance(record, tuple)
            await self.answer(record.value, h.to_dict(record.headers), handler)

    async def answer(self, value: bytes, headers: Mapping[str, str], handler: QueryHandler) -> None:
        try:
            query = decode_event(value)
        except ContractError as error:
            log.warning("malformed query", error=error.reason)
            request_id = headers.get(h.EVENT_ID, "")
            await self.reply(headers, request_id, self._failure(None, 400, error.reason))
            return
        try:
            response = await handler(query)
        except Exception as error:
            log.exception("query handler failed", query_type=query.type)
            response = self._failure(query, 500, f"{type(error).__name__}: {error}")
        await self.reply(headers, str(query.event_id), response)

    def _failure(self, query: Envelope[Any] | None, status: int, reason: str) -> QueryFailedV1:
        if query is not None:
            return refusal(query, status, reason, self.service)
        return new_event(  # undecodable: nothing to correlate with
            QueryFailedV1,
            QueryFailedPayload(status=status, reason=reason),
            correlation_id="unknown",
            producer=self.service,
        )
