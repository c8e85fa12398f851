"""One model, many documents: embedding requests from documents ingested at once are gathered
into full batches (the model is several times faster per text in a batch of 64 than one at a
time), run in worker threads, and their vectors handed back to each.

With several workers (`INGESTION_EMBEDDING_WORKERS`), each has its own embedder and a batch is
formed as soon as one is free, so the next batch is ready while another is being embedded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion_service.embedding import Embedder


@dataclass
class _Request:
    texts: list[str]
    done: asyncio.Future[list[list[float]]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EmbeddingBatcher:
    def __init__(
        self, embedders: Sequence[Embedder], batch_size: int, linger_s: float = 0.02
    ) -> None:
        self.embedder = embedders[0]  # for what every worker shares: name, dimensions, counting
        self._embedders = list(embedders)
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._idle: asyncio.Queue[Embedder] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for embedder in self._embedders:
            self._idle.put_nowait(embedder)
        self._spawn(self._run(), "embedding-batcher")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`, batched with other callers'."""
        request = _Request(texts)
        await self._queue.put(request)
        return await request.done

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        while True:
            embedder = await self._idle.get()  # a batch is formed when a worker can take it
            batch = await self._next_batch()
            self._spawn(self._answer(batch, embedder), "embedding-batch")

    async def _next_batch(self) -> list[_Request]:
        batch = [await self._queue.get()]
        size = len(batch[0].texts)
        deadline = asyncio.get_running_loop().time() + self._linger_s
        while size < self._batch_size:
            if not self._queue.empty():
                request = self._queue.get_nowait()
            else:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    request = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            batch.append(request)
            size += len(request.texts)
        return batch

    async def _answer(self, batch: list[_Request], embedder: Embedder) -> None:
        texts = [text for request in batch for text in request.texts]
        try:
            vectors = await asyncio.to_thread(embedder.embed, texts)
        except Exception as error:
            for request in batch:
                request.done.set_exception(error)
            return
        finally:
            self._idle.put_nowait(embedder)
        start = 0
        for request in batch:
            mine = vectors[start : start + len(request.texts)]
            start += len(request.texts)
            request.done.set_result(mine)
