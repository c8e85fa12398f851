"""Whether a consumer is making progress, for `/readyz`.

A consumer whose every attempt fails (its database unreachable, the broker refusing its
retries) is not ready, and says why: an operator's probe sees it, and a load balancer or
orchestrator treats it as the stuck process it is."""

from __future__ import annotations

import time

from assistant_messaging.consuming.failures import failure_reason

# A single failure is an incident a retry absorbs; this many in a row is a stall.
STALLED_AFTER = 3


class Stall:
    def __init__(self, part: str) -> None:
        self.part = part
        self.count = 0
        self._since: float | None = None
        self._error = ""

    def failed(self, error: BaseException) -> None:
        self.count += 1
        if self._since is None:
            self._since = time.monotonic()
        self._error = " ".join(failure_reason(error).split())[:200]

    def cleared(self) -> None:
        self.count = 0
        self._since = None

    @property
    def reason(self) -> str | None:
        """Why the part cannot make progress, or None while it can."""
        if self.count < STALLED_AFTER or self._since is None:
            return None
        stuck_s = time.monotonic() - self._since
        return f"{self.part} failing for {stuck_s:.0f}s ({self.count} attempts): {self._error}"
