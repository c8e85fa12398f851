"""Concurrent writes coalesced into one statement, the way a database coalesces commits.

A submission that finds the coalescer idle goes out at once, alone: no added latency when
there is nothing to wait for. Submissions that arrive while a write is in flight queue, and
the next write takes all of them, so under load each write carries what arrived during the
last one. A hot path then pays one round trip, one commit (one disk flush) and one outbox
notice per write instead of per submission.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Queued(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Coalescer(Generic[Item, Result]):
    """`await submit(item)` returns the item's result once `write([..., item, ...])` (which
    returns a result per item, in order) has succeeded, or raises what writing the item alone
    raised. `write` must be atomic: all of a batch, or none of it.

    A failed batch is written again one item at a time, so that one item's fault (a row that
    breaks a constraint) is its own and not its neighbours'. A submission cancelled while it
    waits may still be written, as a statement cancelled in flight may still commit."""

    def __init__(
        self, write: Callable[[list[Item]], Awaitable[Sequence[Result]]], max_items: int
    ) -> None:
        self._write = write
        self._max_items = max_items
        self._queue: list[_Queued[Item, Result]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        queued: _Queued[Item, Result] = _Queued(item)
        self._queue.append(queued)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued())
            self._writer.add_done_callback(self._after_writer)
        return await queued.done

    async def _write_queued(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_items]
            del self._queue[: self._max_items]
            await self._write_batch(batch)
        self._writer = None

    def _after_writer(self, writer: asyncio.Task[None]) -> None:
        """A writer that did not finish (cancelled at shutdown, even before it started) leaves
        nobody waiting forever."""
        if self._writer is not writer:  # it finished, or a new one took over
            return
        self._writer = None
        for queued in self._queue:
            queued.done.cancel()
        self._queue.clear()

    async def _write_batch(self, batch: list[_Queued[Item, Result]]) -> None:
        try:
            results = await self._write([queued.item for queued in batch])
        except Exception as error:
            if len(batch) > 1:
                for queued in batch:  # whose fault was it?
                    await self._write_batch([queued])
            elif not batch[0].done.done():  # else its submitter was cancelled
                batch[0].done.set_exception(error)
            return
        except BaseException:
            for queued in batch:
                queued.done.cancel()
            raise
        for queued, result in zip(batch, results, strict=True):
            if not queued.done.done():  # else its submitter was cancelled
                queued.done.set_result(result)
