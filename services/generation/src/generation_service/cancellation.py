"""Hearing that a client went away: every instance reads all of `generation.cancel_requested`.

The topic has no consumer group here: a cancellation must reach the one instance running the
request, whichever it is. Only cancellations sent from now on matter, so it starts at the end.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from assistant_messaging.tail_reader import tail_consumer
from assistant_schemas import ContractError, decode_event
from assistant_schemas.generation import GenerationCancelRequestedV1
from generation_service.worker import GenerationWorker

log = structlog.get_logger(__name__)

TOPIC = "generation.cancel_requested"


class CancelListener:
    def __init__(self, bootstrap_servers: str, worker: GenerationWorker) -> None:
        self._bootstrap = bootstrap_servers
        self._worker = worker
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = await tail_consumer(self._bootstrap, [TopicPartition(TOPIC, 0)])
        self._reader = asyncio.create_task(self._read(), name="cancel-listener")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            try:
                event = decode_event(record.value)
            except ContractError as error:
                log.warning("malformed cancellation ignored", error=error.reason)
                continue
            if isinstance(event, GenerationCancelRequestedV1) and self._worker.cancel(
                event.payload.request_id, event.user_id
            ):
                log.info("generation cancelled", request_id=str(event.payload.request_id))
