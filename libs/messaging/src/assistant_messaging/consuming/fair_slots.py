"""Slots for running jobs, shared between users in turn.

A consumer takes records from Kafka in the order they were written, so one user's batch of a
few hundred uploads would otherwise hold every slot until it is through, and another user's
single document would wait behind all of it. Here a free slot goes to the users waiting for
one in rotation: each user's jobs keep their own order, and a user who just got a slot goes
to the back of the line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Hashable


class FairSlots:
    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: dict[Hashable, deque[asyncio.Future[None]]] = {}
        self._turns: deque[Hashable] = deque()  # users with a job waiting, next first

    @contextlib.asynccontextmanager
    async def held(self, user: Hashable) -> AsyncIterator[None]:
        """A slot for one of `user`'s jobs, for as long as the block runs."""
        await self._acquire(user)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, user: Hashable) -> None:
        if self._free > 0 and not self._turns:
            self._free -= 1
            return
        granted = asyncio.get_running_loop().create_future()
        if user not in self._waiting:
            self._waiting[user] = deque()
            self._turns.append(user)
        self._waiting[user].append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # granted just as it was cancelled: hand the slot on
            else:
                self._forget(user, granted)
            raise

    def _forget(self, user: Hashable, granted: asyncio.Future[None]) -> None:
        queue = self._waiting[user]
        queue.remove(granted)
        if not queue:
            del self._waiting[user]
            self._turns.remove(user)

    def _release(self) -> None:
        self._free += 1
        if self._turns:
            user = self._turns.popleft()
            queue = self._waiting[user]
            granted = queue.popleft()
            if queue:
                self._turns.append(user)
            else:
                del self._waiting[user]
            granted.set_result(None)
            self._free -= 1
