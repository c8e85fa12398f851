"""Consuming long-running work (an LLM call, a Notion write) many records at a time.

The batched `EventConsumer` handles records inside one database transaction; work that takes
seconds and calls the outside world cannot hold one. Here each record becomes a task, up to
`max_fetched` of them, of which `max_in_flight` run at once, given to the users whose jobs wait
in turn (`FairSlots`: one user's backlog does not hold up another's single job); records with
the same key run one after another (two turns of a conversation never race); and a partition's
offset is committed only up to its first record whose task has not finished. A crash therefore
redelivers every unfinished record, and the handler's own bookkeeping (a jobs table claimed by
event id) makes the redelivery safe. A record still waiting for a slot when its partition is
revoked is left to the partition's next owner.

A record that breaks its contract, or whose handler raises `PermanentFailure`, goes to the
dead-letter topic at once. A handler that raises `RetryLater` (the outside world asked it to
wait) or anything else sends its record to the service's retry topic, due after the wait (or
the policy's growing delay), so the partition moves on at once: a record that fails every time
never holds back the ones behind it. This consumer reads the retry topic too, taking only the
retries of its own topics; after the last attempt the record is dead-lettered. Before a record
is dead-lettered its handler's `abandon` is called, so the work it stood for ends as failed
(a request's status, a job's row) instead of waiting for a worker that will never come.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from prometheus_client import Gauge

from assistant_db.errors import database_unavailable
from assistant_messaging.consuming.failures import (
    Failure,
    FailureRouter,
    Origin,
    PermanentFailure,
    RetryLater,
    failure_reason,
)
from assistant_messaging.consuming.fair_slots import FairSlots
from assistant_messaging.consuming.log_limits import ThrottledLog
from assistant_messaging.consuming.stall import Stall
from assistant_messaging.kafka import headers as h
from assistant_messaging.kafka.membership import HEARTBEAT_INTERVAL_MS
from assistant_schemas import ContractError, Envelope, decode_event
from assistant_schemas.topics import retry_topic

log = structlog.get_logger(__name__)
storm_log = ThrottledLog(__name__)  # lines an outage or a burst of failures repeats

IN_FLIGHT = Gauge(
    "jobs_in_flight",
    "Long-running jobs being handled",
    ["service"],
    multiprocess_mode="livesum",  # with several workers: all of theirs
)

JobHandler = Callable[[Envelope[Any], Mapping[str, str]], Awaitable[None]]
# Called with the event, its headers and the reason, before the event is dead-lettered.
JobAbandoner = Callable[[Envelope[Any], Mapping[str, str], str], Awaitable[None]]
ABANDON_ATTEMPTS = 4
Record: TypeAlias = ConsumerRecord[bytes, bytes]


@dataclass
class _PartitionProgress:
    """Offsets handed out in order, and which of them are finished."""

    outstanding: deque[int] = field(default_factory=deque)
    finished: set[int] = field(default_factory=set)
    committable: int | None = None  # next offset to commit, once it moved

    def started(self, offset: int) -> None:
        self.outstanding.append(offset)

    def finish(self, offset: int) -> None:
        self.finished.add(offset)
        while self.outstanding and self.outstanding[0] in self.finished:
            done = self.outstanding.popleft()
            self.finished.discard(done)
            self.committable = done + 1


@dataclass(frozen=True)
class JobSettings:
    max_in_flight: int = 256
    # Taken from Kafka ahead of a slot, so that every user's next job is in sight of the turns.
    max_fetched: int = 1024
    commit_interval_s: float = 0.5
    outage_patience_s: float = 120.0
    shutdown_grace_s: float = 15.0


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: JobConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._consumer.commit()
        for partition in revoked:
            # Tasks still running keep going; the partition's next owner finds their jobs
            # claimed and waits for them, so forgetting the offsets here loses nothing.
            self._consumer.progress.pop(partition, None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class JobConsumer:
    def __init__(
        self,
        *,
        service: str,
        instance_id: str,
        bootstrap_servers: str,
        topics: list[str],
        handler: JobHandler,
        failures: FailureRouter,
        settings: JobSettings | None = None,
        abandon: JobAbandoner | None = None,
    ) -> None:
        self.service = service
        self.instance_id = instance_id
        self._bootstrap = bootstrap_servers
        self._topics = topics
        self._handler = handler
        self._abandon = abandon
        self.stalled = Stall("job consumer")
        self._failures = failures
        self._settings = settings or JobSettings()
        self._consumer: AIOKafkaConsumer | None = None
        self.progress: dict[TopicPartition, _PartitionProgress] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[bytes, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._slot_freed = asyncio.Event()
        self._slots = FairSlots(self._settings.max_in_flight)

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.service,
            client_id=f"{self.instance_id}-jobs",  # which instance holds what, in the group
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        consumer.subscribe([*self._topics, retry_topic(self.service)], listener=_Rebalance(self))
        await consumer.start()
        self._consumer = consumer
        self._loops = [
            asyncio.create_task(self._fetch(), name="jobs-fetch"),
            asyncio.create_task(self._commit_periodically(), name="jobs-commit"),
        ]

    async def stop(self) -> None:
        """Stops fetching, gives running jobs the shutdown grace to finish, then cancels the
        rest (their offsets stay uncommitted, so the next owner picks them up)."""
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        if self._tasks:
            _, running = await asyncio.wait(self._tasks, timeout=self._settings.shutdown_grace_s)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        await self.commit()
        if self._consumer is not None:
            await self._consumer.stop()

    async def commit(self) -> None:
        if self._consumer is None:
            return
        offsets = {
            partition: OffsetAndMetadata(progress.committable, "")
            for partition, progress in self.progress.items()
            if progress.committable is not None
        }
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except Exception as error:  # a rebalance in progress: the next owner redelivers
            log.warning("offset commit failed", error=repr(error))
            return
        for partition, offset in offsets.items():
            progress = self.progress.get(partition)
            if progress is not None and progress.committable == offset.offset:
                progress.committable = None

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._settings.commit_interval_s)
            await self.commit()

    async def _fetch(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        while True:
            free = max(self._settings.max_fetched, self._settings.max_in_flight) - len(self._tasks)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            batches = await consumer.getmany(timeout_ms=200, max_records=free)
            for partition, records in batches.items():
                progress = self.progress.setdefault(partition, _PartitionProgress())
                for record in records:
                    progress.started(record.offset)
                    self._spawn(partition, progress, record)

    def _spawn(
        self, partition: TopicPartition, progress: _PartitionProgress, record: Record
    ) -> None:
        previous = self._tails.get(record.key) if record.key is not None else None
        task = asyncio.create_task(self._run(record, previous, partition, progress))
        self._tasks.add(task)
        if record.key is not None:
            self._tails[record.key] = task
        task.add_done_callback(lambda done: self._finished(done, progress, record))

    def _finished(
        self, task: asyncio.Task[None], progress: _PartitionProgress, record: Record
    ) -> None:
        self._tasks.discard(task)
        if record.key is not None and self._tails.get(record.key) is task:
            del self._tails[record.key]
        self._slot_freed.set()
        if task.cancelled():
            return  # shutting down: left uncommitted for the next owner
        progress.finish(record.offset)  # a revoked partition's progress is no longer read

    async def _run(
        self,
        record: Record,
        previous: asyncio.Task[None] | None,
        partition: TopicPartition,
        progress: _PartitionProgress,
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # same key: strictly after the one before
        origin = Origin.of(record)
        if origin.malformed is not None or origin.topic not in self._topics:
            return  # another consumer's retry, or one the event consumer dead-letters
        if origin.retry_at is not None:
            await asyncio.sleep(max(0.0, origin.retry_at - time.time()))
        try:
            event = decode_event(record.value)
        except ContractError as error:
            await self._route(Failure(record, origin, f"contract: {error.reason}", True))
            return
        headers = h.to_dict(record.headers)
        async with self._slots.held(event.user_id):
            if self.progress.get(partition) is not progress:
                return  # revoked while it waited: the partition's next owner runs it
            IN_FLIGHT.labels(self.service).inc()
            try:
                failure = await self._handled(record, origin, event, headers)
            finally:
                IN_FLIGHT.labels(self.service).dec()
        if failure is None:
            return
        if self._failures.is_final(failure):
            await self._abandoned(event, headers, failure.error)
        await self._route(failure)

    async def _handled(
        self, record: Record, origin: Origin, event: Envelope[Any], headers: Mapping[str, str]
    ) -> Failure | None:
        """Runs the handler; the failure to route, if it failed. While the database is
        unreachable the job is tried again here, with a growing pause, for up to
        `outage_patience_s`: an outage is not the job's fault, and spending its retries on it
        would dead-letter good work (the consumer reports the stall on `/readyz` meanwhile)."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self._settings.outage_patience_s
        pause = 0.5
        while True:
            try:
                await self._handler(event, headers)
                self.stalled.cleared()
                return None
            except PermanentFailure as error:
                return Failure(record, origin, failure_reason(error), True)
            except RetryLater as error:
                return Failure(record, origin, failure_reason(error), False, error.after_s)
            except Exception as error:
                if database_unavailable(error) and loop.time() + pause < give_up_at:
                    self.stalled.failed(error)
                    storm_log.warning("database unavailable; jobs paused", error=repr(error)[:200])
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 5.0)
                    continue
                storm_log.warning("job failed", attempt=origin.attempts + 1, error=repr(error))
                return Failure(record, origin, failure_reason(error), False)

    async def _abandoned(self, event: Envelope[Any], headers: Mapping[str, str], why: str) -> None:
        """Ends the work as failed before its record is dead-lettered; bounded, since the record
        must not stay unrouted (a DLQ redrive reaches work this could not end)."""
        if self._abandon is None:
            return
        for attempt in range(1, ABANDON_ATTEMPTS + 1):
            try:
                await self._abandon(event, headers, why)
                return
            except Exception as error:
                storm_log.error("cannot mark abandoned work failed", error=repr(error))
                await asyncio.sleep(2 ** (attempt - 1))

    async def _route(self, failure: Failure) -> None:
        # Until the retry or dead letter is written the offset must not move: keep trying.
        while True:
            try:
                await self._failures.route(failure)
                self.stalled.cleared()
                return
            except Exception as error:
                self.stalled.failed(error)
                storm_log.error("cannot route a failed job; retrying", error=repr(error))
                await asyncio.sleep(1.0)
