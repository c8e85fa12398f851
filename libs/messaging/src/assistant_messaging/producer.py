"""The Kafka producer every durable publish goes through.

aiokafka clients must be created inside the running event loop, and a client whose start
failed cannot be started again; this handle creates a fresh one on each `start()`, so the
objects that publish can be built (and wired to FastStream) before the loop runs.
"""

import asyncio
import contextlib
from typing import Any

from aiokafka import AIOKafkaProducer


class DurableProducer:
    """acks=all with an idempotent producer: a retried send is never written twice."""

    def __init__(self, bootstrap_servers: str, *, client_id: str, linger_ms: int = 5) -> None:
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
            await self._producer.stop()
            self._producer = None

    @property
    def client(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the Kafka producer is not connected yet")
        return self._producer

    async def send(self, topic: str, **kwargs: Any) -> "asyncio.Future[Any]":
        """Queues a record; await the returned future for the broker's acknowledgement."""
        future: asyncio.Future[Any] = await self.client.send(topic, **kwargs)
        return future

    async def send_and_wait(self, topic: str, **kwargs: Any) -> Any:
        return await self.client.send_and_wait(topic, **kwargs)
