"""Pacing Notion calls per integration token, so Notion never has to refuse one.

At most `rate_per_s` calls of one token in any second, counted the way the server counts them:
a call occupies its slot from when it is sent until one second after its answer arrived, so
however long the network takes, the server never sees more than the rate within a second.
Bursts up to the rate go out at once. Tokens are told apart by a digest, never kept in clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator

WINDOW_S = 1.0


class Pacer:
    def __init__(self, rate_per_s: float) -> None:
        self.calls_per_window = max(1, math.floor(rate_per_s * WINDOW_S))
        self._finished: dict[str, deque[float]] = defaultdict(deque)
        self._running: dict[str, int] = defaultdict(int)

    @contextlib.asynccontextmanager
    async def slot(self, token: str) -> AsyncIterator[None]:
        key = hashlib.sha256(token.encode()).hexdigest()
        await self._acquire(key)
        try:
            yield
        finally:
            self._running[key] -= 1
            self._finished[key].append(time.monotonic())

    async def _acquire(self, key: str) -> None:
        finished = self._finished[key]
        while True:
            now = time.monotonic()
            while finished and now - finished[0] >= WINDOW_S:
                finished.popleft()
            if len(finished) + self._running[key] < self.calls_per_window:
                self._running[key] += 1
                return
            # A slot frees a second after the oldest finished call, or when a running one ends.
            wait = WINDOW_S - (now - finished[0]) if finished else 0.01
            await asyncio.sleep(max(wait, 0.001))
