"""Streaming deltas back to the gateway instance holding the client's connection.

Deltas travel as `generation.chunk` replies to the reply address in the request's headers. The
first goes at once (time to first token is what users feel); after it, deltas travel together
in windows that grow from `first_window_s`, doubling, to `longest_window_s`: people read a
steady flow, not single tokens, and a real model's token every 20-30 ms would otherwise cost a
Kafka message each. What is still buffered when an answer completes is not sent: the final
reply carries the whole answer, and the gateway streams the rest from it. Sends are
serialised, so the gateway receives chunks in sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping

import structlog

from assistant_messaging.request_reply.responder import Responder
from assistant_schemas import new_event
from assistant_schemas.generation import GenerationChunkPayload, GenerationChunkV1

log = structlog.get_logger(__name__)


def window_after(sends: int, first_s: float, longest_s: float) -> float:
    """How long deltas gather after the `sends`-th send: `first_s`, doubling with each send,
    up to `longest_s`."""
    doublings = min(max(sends - 1, 0), 16)
    return min(first_s * (1 << doublings), longest_s)


class ChunkStream:
    def __init__(
        self,
        responder: Responder,
        request_headers: Mapping[str, str],
        request_event_id: str,
        request_id: uuid.UUID,
        correlation_id: str,
        user_id: uuid.UUID | None,
        first_window_s: float,
        longest_window_s: float,
    ) -> None:
        self._responder = responder
        self._headers = request_headers
        self._in_reply_to = request_event_id
        self._request_id = request_id
        self._correlation_id = correlation_id
        self._user_id = user_id
        self._first_window_s = first_window_s
        self._longest_window_s = longest_window_s
        self._buffer: list[str] = []
        self._sequence = 0
        self._last_send = 0.0
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None

    async def delta(self, text: str) -> None:
        self._buffer.append(text)
        loop = asyncio.get_running_loop()
        wait = self._last_send + self._window_s() - loop.time()
        if self._sequence == 0 or wait <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_after(wait))

    def _window_s(self) -> float:
        return window_after(self._sequence, self._first_window_s, self._longest_window_s)

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

    async def close(self, *, completed: bool) -> None:
        """Call before the final reply. A completed answer's final reply carries the rest of
        its text; otherwise what is buffered is sent now."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if completed:
            self._buffer.clear()
        else:
            await self.flush()

    @property
    def sent_any(self) -> bool:
        return self._sequence > 0
