"""Logging that cannot flood: in an error storm (a database outage with hundreds of jobs
waiting, a burst of poison messages) each kind of line is written at most once a second, and
the next one written says how many were held back (`suppressed`)."""

from __future__ import annotations

import time
from typing import Any

import structlog


class ThrottledLog:
    def __init__(self, name: str, interval_s: float = 1.0) -> None:
        self._log = structlog.get_logger(name)
        self._interval_s = interval_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, event: str, **fields: Any) -> None:
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit("error", event, fields)

    def _emit(self, level: str, event: str, fields: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last.get(event, -self._interval_s) < self._interval_s:
            self._held[event] = self._held.get(event, 0) + 1
            return
        self._last[event] = now
        suppressed = self._held.pop(event, 0)
        if suppressed:
            fields["suppressed"] = suppressed
        getattr(self._log, level)(event, **fields)
