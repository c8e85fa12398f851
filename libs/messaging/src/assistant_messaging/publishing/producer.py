"""The Kafka producer every durable publish goes through.

aiokafka clients must be created inside the running event loop, and a client whose start
failed cannot be started again; this handle creates a fresh one on each `start()`, so the
objects that publish can be built (and wired to FastStream) before the loop runs.
"""

import asyncio
import contextlib
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError


class Publisher(Protocol):
    """What routing a failure or answering a query needs: send one record, await its ack."""

    async def send_and_wait(self, topic: str, **kwargs: Any) -> Any: ...


class DurableProducer:
    """acks=all with an idempotent producer: a retried send is never written twice."""

    def __init__(self, bootstrap_servers: str, *, client_id: str, linger_ms: int = 0) -> None:
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "max_batch_size": 1024 * 1024,
            "request_timeout_ms": 15_000,
        }
        self._producer: AIOKafkaProducer | None = None
        self._resetting = asyncio.Lock()

    async def start(self) -> None:
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def reset(self, failed: AIOKafkaProducer | None = None) -> None:
        """Replaces the client by a new one, with a new producer id.

        After a broker restart an idempotent producer can be left with sequence numbers the
        broker rejects (OutOfOrderSequenceNumber) for good; only a new producer id recovers.
        `failed` names the client that failed, so concurrent failures reset only once.
        """
        async with self._resetting:
            if failed is not None and self._producer is not failed:
                return  # someone already replaced it
            with contextlib.suppress(Exception):
                await self.stop()
            await self.start()

    async def connected(self) -> AIOKafkaProducer:
        """The current client, connecting first if a failed reset left none."""
        if self._producer is None:
            async with self._resetting:
                if self._producer is None:
                    await self.start()
        assert self._producer is not None
        return self._producer

    async def send_and_wait(self, topic: str, **kwargs: Any) -> Any:
        client = await self.connected()
        try:
            return await client.send_and_wait(topic, **kwargs)
        except KafkaError:
            with contextlib.suppress(Exception):
                await self.reset(failed=client)
            raise
