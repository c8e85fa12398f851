"""Streaming deltas back to the gateway instance holding the client's connection.

Deltas travel as `generation.chunk` replies to the reply address in the request's headers. The
first goes at once (time to first token is what users feel); later ones arriving within
`flush_s` of the last send travel together, so a fast model does not cost a Kafka message per
token. Sends are serialised, so the gateway receives chunks in sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping

import structlog

from assistant_messaging.request_reply import Responder
from assistant_schemas import new_event
from assistant_schemas.generation import GenerationChunkPayload, GenerationChunkV1

log = structlog.get_logger(__name__)


class ChunkStream:
    def __init__(
        self,
        responder: Responder,
        request_headers: Mapping[str, str],
        request_event_id: str,
        request_id: uuid.UUID,
        correlation_id: str,
        user_id: uuid.UUID | None,
        flush_s: float,
    ) -> None:
        self._responder = responder
        self._headers = request_headers
        self._in_reply_to = request_event_id
        self._request_id = request_id
        self._correlation_id = correlation_id
        self._user_id = user_id
        self._flush_s = flush_s
        self._buffer: list[str] = []
        self._sequence = 0
        self._last_send = 0.0
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None

    async def delta(self, text: str) -> None:
        self._buffer.append(text)
        loop = asyncio.get_running_loop()
        wait = self._last_send + self._flush_s - loop.time()
        if self._sequence == 0 or wait <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_after(wait))

    async def _flush_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            text, self._buffer = "".join(self._buffer), []
            chunk = new_event(
                GenerationChunkV1,
                GenerationChunkPayload(
                    request_id=self._request_id, sequence=self._sequence, delta=text
                ),
                correlation_id=self._correlation_id,
                producer="generation",
                user_id=self._user_id,
            )
            self._sequence += 1
            self._last_send = asyncio.get_running_loop().time()
            try:
                await self._responder.reply(self._headers, self._in_reply_to, chunk)
            except Exception as error:
                # The answer is still stored and published; the gateway sees the gap in the
                # sequence and tells its client the stream broke.
                log.warning("chunk not delivered", error=repr(error))

    async def close(self) -> None:
        """Sends what is buffered; call before the final reply."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        await self.flush()

    @property
    def sent_any(self) -> bool:
        return self._sequence > 0
