"""The lifecycle of a service process.

Start never crashes on an unreachable dependency: the HTTP server comes up first, and a
background task connects to PostgreSQL and Kafka, logging one line that names the setting to
fix, and tries again until it succeeds. `/readyz` stays false meanwhile. Stop lets in-flight
messages finish and commit their offsets before the consumers close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from assistant_db import DriverPool, create_engine, session_factory
from assistant_db.migrations import current_revision, head_revision
from assistant_messaging.consuming.consumer import EventConsumer
from assistant_messaging.consuming.dependencies import Provided
from assistant_messaging.consuming.failures import FailureRouter, RetryPolicy
from assistant_messaging.consuming.inbox import Inbox
from assistant_messaging.consuming.inbox_pruning import InboxPruner
from assistant_messaging.consuming.stall import Stall
from assistant_messaging.publishing.outbox import Outbox
from assistant_messaging.publishing.producer import DurableProducer
from assistant_messaging.publishing.relay import OutboxRelay, RelaySettings
from assistant_messaging.request_reply.responder import Responder
from assistant_runtime import receiving
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.settings import ServiceSettings

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_S = 2.0
STOP_MARGIN_S = 5.0


class Component(Protocol):
    """A long-lived part a service adds to its runtime (a reply reader, a job consumer)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Readiness:
    database: bool
    kafka: bool
    migrations: bool
    detail: dict[str, str]
    consuming: bool = True  # no consumer is stuck failing

    @property
    def ready(self) -> bool:
        return self.database and self.kafka and self.migrations and self.consuming


class ServiceRuntime:
    def __init__(self, definition: ServiceDefinition, settings: ServiceSettings) -> None:
        self.definition = definition
        self.settings = settings
        self.instance_id = f"{definition.name}-{settings.instance_id}"
        # A fixed pool: a connection opened beyond it would be closed again after one
        # transaction, and its set-up costs more than a request's own statements.
        self.engine: AsyncEngine = create_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=0
        )
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        # For hot paths of constant statements: no connection opens until one is used.
        self.driver_pool = DriverPool(settings.database_url, settings.db_pool_size)
        # For counters (rate limits): a crash may lose their last counts, so their commits do
        # not wait for the disk; on the gateway's hot path that flush was a tenth of the
        # database's CPU.
        self.counting_pool = DriverPool(
            settings.database_url, settings.db_pool_size, durable_commits=False
        )
        self.outbox = Outbox(definition.tables.outbox)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=self.instance_id,
            graceful_timeout=settings.shutdown_grace_s,
            middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=definition.name)],
            logger=structlog.get_logger("faststream"),
            # A line per message is for debugging, not for production at INFO.
            log_level=logging.DEBUG,
        )
        self.producer = DurableProducer(
            settings.kafka_bootstrap_servers, client_id=f"{self.instance_id}-producer"
        )
        inbox = Inbox(definition.tables.inbox)
        self.inbox_pruner = InboxPruner(self.engine, inbox, definition.router.longest_retention())
        failures = FailureRouter(
            definition.name,
            self.producer,
            RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                base_delay_s=settings.retry_base_delay_s,
                max_delay_s=settings.retry_max_delay_s,
            ),
        )
        self.consumer = EventConsumer(
            router=definition.router,
            sessions=self.sessions,
            inbox=inbox,
            outbox=self.outbox,
            failures=failures,
        )
        self.consumer.subscribe(
            self.broker, max_records=settings.consumer_batch_size, consumers=settings.consumers
        )
        self.responder = Responder(
            definition.name,
            self.producer,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            failures=failures,
        )
        self.relay = OutboxRelay(
            database_url=settings.database_url,
            schema=definition.schema,
            producer=self.producer,
            settings=RelaySettings(
                batch_size=settings.outbox_batch_size,
                min_cycle_s=settings.outbox_min_cycle_ms / 1000,
            ),
        )
        # Started once Kafka is reachable, stopped before it is let go.
        self.components: list[Component] = []
        self._provided: list[object] = []
        # The router's jobs and broadcasts: started after the components, stopped before.
        self._receivers: list[Component] = []
        self._head = head_revision(definition.migrations_dir)
        self._tasks: list[asyncio.Task[None]] = []
        self._cached: tuple[float, Readiness] | None = None
        self._connected = False

    def provide(self, *objects: object) -> None:
        """Objects the router's job handlers, answerers and listeners ask for by type."""
        self._provided.extend(objects)

    async def start(self) -> None:
        self._receive_what_the_router_declares()
        self._tasks.append(asyncio.create_task(self._connect(), name="connect"))

    def _receive_what_the_router_declares(self) -> None:
        router, provided = self.definition.router, Provided(self._provided)
        receiving.serve_answers(router, provided, self.responder)
        listener = receiving.broadcast_listener(router, provided, self.settings)
        jobs = receiving.job_consumer(
            router, provided, self.settings, self.instance_id, self.consumer.failures
        )
        self._receivers = [part for part in (listener, jobs) if part is not None]

    async def _connect(self) -> None:
        await self._until_ok("DATABASE_URL", self._check_database)
        await self._until_ok("KAFKA_BOOTSTRAP_SERVERS", self.producer.start)
        await self._until_ok("KAFKA_BOOTSTRAP_SERVERS", self.broker.start)
        for component in [*self.components, *self._receivers]:
            await self._until_ok("KAFKA_BOOTSTRAP_SERVERS", component.start)
        # Last: the answers may need the components (search needs its index).
        await self._until_ok("KAFKA_BOOTSTRAP_SERVERS", self.responder.start)
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        self._tasks.append(asyncio.create_task(self.inbox_pruner.run(), name="inbox-pruner"))
        tune_garbage_collection(self.settings.gc_thresholds)
        self._connected = True
        log.info("service started", topics=self.definition.router.topics())

    async def _until_ok(self, setting: str, attempt: Callable[[], Awaitable[object]]) -> None:
        delay = 0.5
        while True:
            try:
                await attempt()
                return
            except Exception as error:
                log.error(f"cannot connect: check {setting}", error=_one_line(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _check_database(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def readiness(self) -> Readiness:
        """Checks (cached for a second, so probes cannot hammer the dependencies)."""
        now = time.monotonic()
        if self._cached and now - self._cached[0] < 1.0:
            return self._cached[1]
        detail: dict[str, str] = {}
        database = migrations = False
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                await self._check_database()
                database = True
                revision = await current_revision(self.engine, self.definition.schema)
                migrations = revision == self._head
                if not migrations:
                    detail["migrations"] = f"at {revision}, head is {self._head}: run make migrate"
        except Exception as error:
            detail.setdefault("database", _one_line(error) or "timed out")
        # Connected: the broker, the components and the query consumers have all started.
        kafka = await self.broker.ping(CHECK_TIMEOUT_S) if self._connected else False
        if not kafka:
            detail["kafka"] = "broker unreachable or not connected yet"
        stalls = self._stall_reasons()
        if stalls:
            detail["consumers"] = "; ".join(stalls)
        result = Readiness(
            database=database,
            kafka=kafka,
            migrations=migrations,
            detail=detail,
            consuming=not stalls,
        )
        self._cached = (now, result)
        return result

    def _stall_reasons(self) -> list[str]:
        """Why a consumer (the event consumer, a component's job consumer) is stuck, if one is."""
        parts = [self.consumer, *self.components, *self._receivers]
        stalls = [getattr(part, "stalled", None) for part in parts]
        return [stall.reason for stall in stalls if isinstance(stall, Stall) and stall.reason]

    async def stop(self) -> None:
        self.consumer.stopping.set()
        await self._stopped("background tasks", self._cancel_tasks())
        await self._stopped("query answers", self.responder.stop(self.settings.shutdown_grace_s))
        # The jobs drain first, while the components (heartbeats, say) still work.
        for component in reversed([*self.components, *self._receivers]):
            await self._stopped(type(component).__name__, component.stop())
        # Waits for in-flight handlers, which commit their offsets, then closes consumers.
        await self._stopped("event consumers", self.broker.stop())
        await self._stopped("producer", self.producer.stop())
        await self._stopped("driver pool", self.driver_pool.close())
        await self._stopped("counting pool", self.counting_pool.close())
        await self.engine.dispose()
        log.info("service stopped")

    async def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _stopped(self, part: str, stopping: Awaitable[object]) -> None:
        """Stops one part, within the grace period and a little more: a part that cannot stop
        (a client waiting on a broker that no longer answers, say) must not keep the process
        from exiting, which its supervisor would end with a kill and nothing logged."""
        budget = self.settings.shutdown_grace_s + STOP_MARGIN_S
        try:
            async with asyncio.timeout(budget):
                await stopping
        except TimeoutError:
            log.error("a part did not stop in time; stopping without it", part=part, after_s=budget)
        except Exception as error:
            log.warning("a part failed to stop cleanly", part=part, error=_one_line(error))


def tune_garbage_collection(thresholds: tuple[int, int, int]) -> None:
    """What a process made to start (modules, models, schemas) lives as long as it does:
    frozen, no later collection traverses it again (measured on the analytics consumer: a third
    of its CPU per event). Then the collector's `thresholds` (`<S>_GC_THRESHOLDS`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())[:300]
