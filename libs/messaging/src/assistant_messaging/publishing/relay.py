"""Publishes committed outbox rows to Kafka.

One relay per schema is active at a time (an advisory lock; the relays of other instances
stand by to take over). Each cycle claims a batch with `FOR UPDATE SKIP LOCKED`, publishes it
with acks=all, and deletes the rows in the same transaction. If publishing fails the
transaction rolls back and the rows wait for the next cycle: nothing committed to the outbox
is lost. A crash after publishing but before commit re-publishes the batch; consumers' inboxes
absorb that duplicate. The relay sleeps on LISTEN/NOTIFY and polls as a fallback; it claims at
most once per a few milliseconds, so that under load a cycle takes many commits.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import Counter

from assistant_db.engine import asyncpg_dsn
from assistant_db.metadata import quoted_schema
from assistant_messaging.kafka.headers import to_kafka
from assistant_messaging.publishing.batch_publish import Record, publish_all
from assistant_messaging.publishing.producer import DurableProducer
from assistant_messaging.tables import notify_channel

log = structlog.get_logger(__name__)

PUBLISHED = Counter("outbox_published_total", "Outbox events published to Kafka", ["service"])
CYCLES = Counter(
    "outbox_cycles_total",
    "Relay cycles that published something (events per cycle: published / cycles)",
    ["service"],
)
FAILED_CYCLES = Counter(
    "outbox_publish_failures_total",
    "Relay cycles whose publish failed and was rolled back",
    ["service"],
)


# One relay per schema publishes at a time: events leave in the order of their rows (two relays
# claiming side by side could publish a key's later event first), and a cycle carries what one
# relay, not each of them, claims. A session lock: released when its connection closes.
LEAD = "SELECT pg_try_advisory_lock(hashtextextended('outbox relay ' || $1, 0))"


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 500
    poll_interval_s: float = 1.0
    retry_backoff_s: float = 1.0
    # The least time from one claim to the next: at a steady few hundred events a second, a
    # cycle per commit was most of the relay's work (and of its database's). A full batch is
    # followed by the next at once.
    min_cycle_s: float = 0.005


class OutboxRelay:
    def __init__(
        self,
        *,
        database_url: str,
        schema: str,
        producer: DurableProducer,
        settings: RelaySettings | None = None,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._schema = schema
        self._producer = producer
        self._settings = settings or RelaySettings()
        self._wakeup = asyncio.Event()
        self.leading = False
        table = f"{quoted_schema(schema)}.outbox"
        self._claim_sql = f"""
            DELETE FROM {table}
            WHERE id IN (
                SELECT id FROM {table} ORDER BY id
                LIMIT $1 FOR UPDATE SKIP LOCKED
            )
            RETURNING id, topic, key, headers, payload
        """  # noqa: S608 - the only interpolation is a validated schema identifier

    async def run(self) -> None:
        """Publishes until cancelled; survives database and broker outages."""
        while True:
            try:
                await self._run_connected()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # outage: keep the loop alive and try again
                FAILED_CYCLES.labels(self._schema).inc()
                log.warning("outbox relay interrupted", schema=self._schema, error=str(error))
                await asyncio.sleep(self._settings.retry_backoff_s)

    async def _reset_producer(self, failed: AIOKafkaProducer) -> None:
        try:
            await self._producer.reset(failed)
        except Exception as error:  # still unreachable: the next cycle tries again
            log.warning("producer reset failed", error=str(error))

    async def _run_connected(self) -> None:
        # A cycle's commit need not wait for its WAL to reach the disk: if the server crashes
        # before it does, the rows are published again, and the inboxes absorb the duplicates.
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn, server_settings={"synchronous_commit": "off"}
        )
        try:
            await self._lead(connection)
            await connection.add_listener(notify_channel(self._schema), self._on_notify)
            while True:
                claimed_at = asyncio.get_running_loop().time()
                published = await self.publish_batch(connection)
                if published < self._settings.batch_size:
                    await self._next_cycle(claimed_at if published else None)

        finally:
            self.leading = False
            with contextlib.suppress(Exception):
                await connection.close()

    async def _lead(self, connection: asyncpg.Connection) -> None:
        """Returns once this relay is the schema's only active one: it holds the schema's relay
        lock for as long as its connection lives. The others stand by and try again every poll
        interval, so when the active relay's process dies another takes over within one."""
        while True:
            if await connection.fetchval(LEAD, self._schema):
                break
            await asyncio.sleep(self._settings.poll_interval_s)
        self.leading = True
        log.info("outbox relay active", schema=self._schema)

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def _next_cycle(self, last_published_at: float | None) -> None:
        """Returns once something was committed (or the poll interval passed), and no sooner
        than `min_cycle_s` after the last cycle that published: under load, what is committed
        meanwhile goes out in one cycle; after a quiet spell, a commit goes out at once."""
        if not self._wakeup.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._settings.poll_interval_s)
        if last_published_at is not None:
            early = (
                last_published_at + self._settings.min_cycle_s - asyncio.get_running_loop().time()
            )
            if early > 0:
                await asyncio.sleep(early)
        self._wakeup.clear()  # what it announced is claimed next

    async def publish_batch(self, connection: asyncpg.Connection) -> int:
        """One claim → publish → delete cycle; returns how many events went out."""
        async with connection.transaction():
            rows = await connection.fetch(self._claim_sql, self._settings.batch_size)
            if not rows:
                return 0
            rows = sorted(rows, key=lambda row: row["id"])
            client = await self._producer.connected()
            records = (
                Record(
                    row["topic"], row["key"], row["payload"], to_kafka(json.loads(row["headers"]))
                )
                for row in rows
            )
            try:
                await publish_all(client, records)
            except KafkaError:
                await self._reset_producer(client)
                raise
        PUBLISHED.labels(self._schema).inc(len(rows))
        CYCLES.labels(self._schema).inc()
        return len(rows)
