"""One model, many documents: embedding requests from documents ingested at once are gathered
into full batches (the model is several times faster per text in a batch of 64 than one at a
time), run one batch at a time in a worker thread, and their vectors handed back to each."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from ingestion_service.embedding import Embedder


@dataclass
class _Request:
    texts: list[str]
    urgent: bool = False
    done: asyncio.Future[list[list[float]]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EmbeddingBatcher:
    def __init__(self, embedder: Embedder, batch_size: int, linger_s: float = 0.02) -> None:
        self.embedder = embedder
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="embedding-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def embed(self, texts: list[str], *, urgent: bool = False) -> list[list[float]]:
        """Vectors for `texts`, batched with other callers'. An `urgent` request (a search
        query: someone waits) takes what is queued already instead of lingering for more."""
        request = _Request(texts, urgent)
        await self._queue.put(request)
        return await request.done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0].texts)
            linger = 0.0 if batch[0].urgent else self._linger_s
            deadline = asyncio.get_running_loop().time() + linger
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
            await self._answer(batch)

    async def _answer(self, batch: list[_Request]) -> None:
        texts = [text for request in batch for text in request.texts]
        try:
            vectors = await asyncio.to_thread(self.embedder.embed, texts)
        except Exception as error:
            for request in batch:
                request.done.set_exception(error)
            return
        start = 0
        for request in batch:
            mine = vectors[start : start + len(request.texts)]
            start += len(request.texts)
            request.done.set_result(mine)
