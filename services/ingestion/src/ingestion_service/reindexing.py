"""Filling a model's embedding index by replay: every stored chunk's text goes through the model
again, a batch at a time, and its vector joins the index, while the indexes of other models
keep serving. Resumable (a chunk that has its vector is not embedded again) and safe to run
beside processes that ingest or delete meanwhile.

`ModelIndex` is a process's own: made at start when its model has none (filled in the
background; search answers "being built" until it is ready), then kept up with the chunks that
processes of another model write (a rolling change of model has both kinds running at once).
`python -m ingestion_service reindex` builds the configured model's index ahead of such a
change, so the new processes serve from their first query.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from ingestion_service import indexes
from ingestion_service.batching import EmbeddingBatcher
from ingestion_service.chunking import embedded_text
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.store import vector_literal

log = structlog.get_logger(__name__)

KNOWN_WITHIN_S = 15.0  # how long a start waits to know the index before search starts anyway

Embed = Callable[[list[str]], Awaitable[list[list[float]]]]


async def fill(
    engine: AsyncEngine,
    index: EmbeddingIndex,
    embed: Embed,
    batch_size: int,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Embeds every chunk the index lacks; returns how many. Walks the chunks in id order, then
    walks again until a walk finds none missing (chunks written meanwhile have random ids)."""
    filled = 0
    while True:
        before = filled
        after: uuid.UUID | None = None
        while True:
            async with engine.connect() as connection:
                rows = await indexes.missing(connection, index, batch_size, after)
            if not rows:
                break
            vectors = await embed([embedded_text(section, text) for _, section, text in rows])
            literals = {
                chunk_id: vector_literal(vector)
                for (chunk_id, _, _), vector in zip(rows, vectors, strict=True)
            }
            async with engine.begin() as connection:
                await indexes.add_vectors(connection, index, literals)
            filled += len(rows)
            after = rows[-1][0]
            progress(filled)
        if filled == before:
            return filled


async def made(engine: AsyncEngine, model: str, dimensions: int) -> EmbeddingIndex:
    """The model's index, made if it has none."""
    async with engine.begin() as connection:
        index = await indexes.find_or_create(connection, model, dimensions)
    if index.dimensions != dimensions:
        raise IndexMismatch(index, dimensions)
    return index


async def filled_and_ready(
    engine: AsyncEngine,
    index: EmbeddingIndex,
    embed: Embed,
    batch_size: int,
    progress: Callable[[int], None] = lambda _: None,
) -> tuple[EmbeddingIndex, int]:
    """Fills the index, then marks it ready; returns it and the vectors added."""
    filled = await fill(engine, index, embed, batch_size, progress)
    async with engine.begin() as connection:
        return await indexes.mark_ready(connection, index), filled


class IndexMismatch(Exception):
    def __init__(self, index: EmbeddingIndex, dimensions: int) -> None:
        super().__init__(
            f"the index of {index.model} holds {index.dimensions}-dimensional vectors but the"
            f" model now gives {dimensions}: drop it (python -m ingestion_service drop-index"
            f" {index.model}) to build it anew"
        )


class ModelIndex:
    """This process's model's index: where its ingestion writes and its search reads."""

    def __init__(
        self, engine: AsyncEngine, embeddings: EmbeddingBatcher, catch_up_s: float,
        batch_size: int,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._embeddings = embeddings
        self._catch_up_s = catch_up_s
        self._batch_size = batch_size
        self.index: EmbeddingIndex | None = None  # set once made or found
        self.problem: str | None = None  # why it cannot serve, when it cannot
        self._task: asyncio.Task[None] | None = None
        self._known = asyncio.Event()  # set once `index` or `problem` is

    @property
    def model(self) -> str:
        return self._embeddings.embedder.name

    async def start(self) -> None:
        """Keeps the index up from now on, and returns once it is known (found or made, maybe
        not filled yet), so that search, started next, serves from it at once. Within a bound:
        while the database or the model is away, search answers that the index is not ready."""
        self._task = asyncio.create_task(self._keep_up(), name="model-index")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._known.wait(), KNOWN_WITHIN_S)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def current(self) -> EmbeddingIndex:
        """The index to write to: waits while it is being made (not while it is filled)."""
        while self.index is None:
            if self.problem:
                raise RuntimeError(self.problem)
            await asyncio.sleep(0.1)
        return self.index

    async def _keep_up(self) -> None:
        while self.index is None or self.index.state != "ready":
            try:
                await self._build()
            except IndexMismatch as mismatch:
                self.problem = str(mismatch)
                self._known.set()
                log.error("the embedding index cannot serve", reason=self.problem)
                return
            except Exception as error:  # the database or the model is away: try again
                log.warning("building the embedding index failed", error=str(error))
                await asyncio.sleep(self._catch_up_s)
        while True:
            await asyncio.sleep(self._catch_up_s)
            try:
                await self._catch_up(self.index)
            except Exception as error:  # the next round tries again
                log.warning("embedding index catch-up failed", error=str(error))

    async def _catch_up(self, index: EmbeddingIndex) -> None:
        """Embeds what processes of other models wrote; with no other index there are none,
        and the scan for them (a pass over every chunk) is skipped."""
        async with self._engine.connect() as connection:
            if not await indexes.others_exist(connection, index):
                return
        if caught := await fill(self._engine, index, self._embed, self._batch_size):
            log.info("embedding index caught up", model=self.model, filled=caught)

    async def _build(self) -> None:
        embedder = self._embeddings.embedder
        dimensions = await asyncio.to_thread(embedder.dimensions)
        self.index = await made(self._engine, embedder.name, dimensions)
        self._known.set()
        if self.index.state == "ready":
            return
        log.info("building the embedding index", model=self.model)
        self.index, filled = await filled_and_ready(
            self._engine, self.index, self._embed, self._batch_size,
            lambda done: log.info("building the embedding index", model=self.model, done=done),
        )  # fmt: skip
        log.info("embedding index ready", model=self.model, filled=filled)

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        return await self._embeddings.embed(texts)
