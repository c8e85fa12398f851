"""Answering queries from the service's query topics, each reply sent to the partition its
requester named (see `requester`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Histogram

from assistant_db.errors import caused_by_input, database_unavailable
from assistant_messaging.consuming.failures import Failure, FailureRouter, Origin
from assistant_messaging.consuming.log_context import HANDLED_EVENT
from assistant_messaging.kafka import headers as h
from assistant_messaging.kafka.membership import HEARTBEAT_INTERVAL_MS
from assistant_messaging.publishing.outbox import envelope_headers
from assistant_messaging.publishing.producer import Publisher
from assistant_messaging.request_reply.replies import refusal
from assistant_schemas import ContractError, Envelope, decode_event, new_event
from assistant_schemas.queries import QueryFailedPayload, QueryFailedV1
from assistant_schemas.topics import topic_of

log = structlog.get_logger(__name__)


QueryHandler = Callable[[Any], Awaitable[Envelope[Any]]]
JOIN_WITHIN_S = 30.0
Outcome = Literal["answered", "failed", "malformed", "unsent"]

ANSWERED = Counter(
    "queries_answered_total",
    "Queries answered, by outcome (answered; failed: the handler raised; malformed; unsent)",
    ["service", "topic", "outcome"],
)
ANSWER_SECONDS = Histogram(
    "query_answer_seconds",
    "From reading a query to its reply's acknowledgement by the broker",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _explained(error: Exception, service: str) -> tuple[int, str]:
    """What a requester (and through it a person) may be told of a handler's failure: never
    the statement, its parameters or a stack, which the log keeps."""
    if caused_by_input(error):
        return 422, "the query holds a value the database cannot take (a number out of range, say)"
    if database_unavailable(error):
        return 503, f"{service} cannot reach its database; try again shortly"
    return 500, f"{service} failed to answer; the error is in its log"


class Responder:
    """Answers queries: reads the service's query topics in its consumer group, runs up to
    `concurrency` handlers at once, and publishes each reply to the partition the requester
    named.

    One consumer reads all the topics. With a consumer per topic, the group's members
    subscribed to different topics, and a leader that assigned partitions before it knew every
    topic left some members without any (seen: both workers of analytics with none of one
    query topic, after the 30 s they waited to start, until a metadata refresh minutes later).

    Queries are not durable work: one lost in a crash is a requester's timeout, so offsets are
    committed automatically on receipt and answers may go out of order. The topics are read by
    plain aiokafka consumers, not FastStream subscribers: FastStream's pipeline per message
    (context scopes, middlewares, dependency injection, a task group) cost 0.27 ms of CPU per
    query, three times everything else answering one takes (bench/request_reply.py)."""

    def __init__(
        self,
        service: str,
        producer: Publisher,
        *,
        bootstrap_servers: str = "",
        concurrency: int = 16,
        failures: FailureRouter | None = None,
    ) -> None:
        self.service = service
        self._producer = producer
        self._failures = failures  # where a query that cannot be read is set aside
        self._bootstrap = bootstrap_servers
        self._concurrency = concurrency
        self._handlers: dict[str, QueryHandler] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._answering: set[asyncio.Task[None]] = set()

    def serve(self, query: type[Envelope[Any]], handler: QueryHandler) -> None:
        """Answers `query` (on its topic in the registry) with `handler` once started."""
        if self._reader is not None:
            raise RuntimeError("queries are served from start(): call serve() before it")
        self._handlers[topic_of(query).name] = handler

    async def start(self) -> None:
        """Joins the group on every query topic; on failure leaves it (so that a caller may
        simply try again)."""
        if not self._handlers:
            return
        try:
            self._consumer = AIOKafkaConsumer(
                *self._handlers,
                bootstrap_servers=self._bootstrap,
                group_id=f"{self.service}.queries",
                heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
                auto_offset_reset="latest",
                enable_auto_commit=True,
            )
            await self._consumer.start()
            joined = asyncio.Event()
            self._reader = asyncio.create_task(self._read(self._consumer, joined), name="queries")
            await self._until_joined(joined)
        except BaseException:
            await self.stop(grace_s=0)
            raise

    async def _until_joined(self, joined: asyncio.Event) -> None:
        """Until partitions are assigned and positioned: a new group starts at the end of a
        topic, so a query sent before that would never be read. Bounded, as a join waits for
        every member of the group to rejoin."""
        try:
            await asyncio.wait_for(joined.wait(), JOIN_WITHIN_S)
        except TimeoutError:
            log.warning("query topics without partitions yet; serving anyway")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stops reading, lets the answers in flight finish (for up to `grace_s`), leaves."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._answering and grace_s > 0:
            await asyncio.wait(self._answering, timeout=grace_s)
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
        self._reader = None
        self._consumer = None

    async def _read(self, consumer: AIOKafkaConsumer, joined: asyncio.Event) -> None:
        slots = asyncio.Semaphore(self._concurrency)
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=100 if not joined.is_set() else 1000)
                if not joined.is_set() and consumer.assignment():
                    for partition in consumer.assignment():
                        await consumer.position(partition)
                    joined.set()
            except KafkaError as error:
                log.warning("cannot read queries; retrying", error=str(error))
                await asyncio.sleep(1)
                continue
            for records in batches.values():
                for record in records:
                    await slots.acquire()
                    handler = self._handlers[record.topic]
                    answering = asyncio.create_task(self._answer_one(record, handler, slots))
                    self._answering.add(answering)
                    answering.add_done_callback(self._answering.discard)

    async def _answer_one(
        self, record: ConsumerRecord[bytes, bytes], handler: QueryHandler, slots: asyncio.Semaphore
    ) -> None:
        started = time.perf_counter()
        outcome: Outcome
        try:
            outcome = await self.answer(
                record.value, h.to_dict(record.headers), handler, record=record
            )
        except Exception:  # the broker refused the reply: the requester times out
            log.exception("query answer not sent", topic=record.topic)
            outcome = "unsent"
        finally:
            slots.release()
        ANSWERED.labels(self.service, record.topic, outcome).inc()
        ANSWER_SECONDS.labels(self.service, record.topic).observe(time.perf_counter() - started)

    async def reply(
        self, request_headers: Mapping[str, str], request_id: str, event: Envelope[Any]
    ) -> None:
        topic = request_headers.get(h.REPLY_TOPIC)
        partition = request_headers.get(h.REPLY_PARTITION)
        if not topic or partition is None or not partition.isdigit():
            log.warning("request has no reply address; answer dropped", request_id=request_id)
            return
        await self._producer.send_and_wait(
            topic,
            value=event.to_json(),
            partition=int(partition),
            headers=h.to_kafka({**envelope_headers(event), h.IN_REPLY_TO: request_id}),
        )

    async def answer(
        self,
        value: bytes | None,
        headers: Mapping[str, str],
        handler: QueryHandler,
        record: ConsumerRecord[bytes, bytes] | None = None,
    ) -> Outcome:
        """Replies to one query with `handler`'s answer, or with why there is none; a query
        that cannot be read (its `record`) is also dead-lettered with the reason."""
        try:
            query = decode_event(value)
        except ContractError as error:
            log.warning("malformed query", error=error.reason)
            if record is not None and self._failures is not None:
                reason = f"contract: {error.reason}"
                await self._failures.route(Failure(record, Origin.of(record), reason, True))
            request_id = headers.get(h.EVENT_ID, "")
            await self.reply(headers, request_id, self._failure(None, 400, error.reason))
            return "malformed"
        # Each query runs in a task of its own, whose copy of the context this sets.
        HANDLED_EVENT.set(query)
        outcome: Outcome = "answered"
        try:
            response = await handler(query)
        except Exception as error:
            log.exception("query handler failed", query_type=query.type)
            response = self._failure(query, *_explained(error, self.service))
            outcome = "failed"
        await self.reply(headers, str(query.event_id), response)
        return outcome

    def _failure(self, query: Envelope[Any] | None, status: int, reason: str) -> QueryFailedV1:
        if query is not None:
            return refusal(query, status, reason, self.service)
        return new_event(  # undecodable: nothing to correlate with
            QueryFailedV1,
            QueryFailedPayload(status=status, reason=reason),
            correlation_id="unknown",
            producer=self.service,
        )
