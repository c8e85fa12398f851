"""Publishes committed outbox rows to Kafka.

Each cycle claims a batch with `FOR UPDATE SKIP LOCKED` (so several relays never take the same
rows), publishes it with acks=all, and deletes the rows in the same transaction. If publishing
fails the transaction rolls back and the rows wait for the next cycle: nothing committed to the
outbox is lost. A crash after publishing but before commit re-publishes the batch; consumers'
inboxes absorb that duplicate. The relay sleeps on LISTEN/NOTIFY and polls as a fallback;
woken from idle, it lingers a few milliseconds so that a cycle takes more than one commit.
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
from assistant_messaging.batch_publish import Record, publish_all
from assistant_messaging.headers import to_kafka
from assistant_messaging.producer import DurableProducer
from assistant_messaging.tables import notify_channel

log = structlog.get_logger(__name__)

PUBLISHED = Counter("outbox_published_total", "Outbox events published to Kafka", ["service"])
FAILED_CYCLES = Counter(
    "outbox_publish_failures_total",
    "Relay cycles whose publish failed and was rolled back",
    ["service"],
)


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 500
    poll_interval_s: float = 1.0
    retry_backoff_s: float = 1.0
    # Woken from idle, how long the events of other commits may gather into the same cycle:
    # at a steady few hundred events a second, a cycle per event was most of the relay's work
    # (and of its database's). A busy relay does not wait: its batches fill while it publishes.
    linger_s: float = 0.005


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
            await connection.add_listener(notify_channel(self._schema), self._on_notify)
            while True:
                published = await self.publish_batch(connection)
                if published < self._settings.batch_size:
                    await self._sleep_until_notified()

        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def _sleep_until_notified(self) -> None:
        if self._wakeup.is_set():  # more was committed while the last batch went out
            self._wakeup.clear()
            return
        try:
            await asyncio.wait_for(self._wakeup.wait(), self._settings.poll_interval_s)
        except TimeoutError:
            return  # polled: nothing was committed meanwhile, or its notice was lost
        # Woken from idle: the commits of the next few milliseconds join this cycle.
        await asyncio.sleep(self._settings.linger_s)
        self._wakeup.clear()

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
        return len(rows)
