"""Requests per minute per user and endpoint family, shared by every gateway instance.

The counters live in PostgreSQL: one atomic upsert per request (part of the admission
statement, `admission.gate`) increments the current minute's window, so two instances can never
both admit the last allowed request. The decision uses a sliding-window estimate (Cloudflare's):
the current window's count plus the previous window's, weighted by how much of it still
overlaps the last 60 seconds, which avoids admitting twice the limit across a window boundary.
"""

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant_db import Statements
from gateway_service.models import SCHEMA

WINDOW = timedelta(minutes=1)
FAMILIES = ("generation", "upload", "search")

# Per minute, from the NetGuru seed (chat/upload); search is as cheap to admit as chat.
DEFAULT_LIMITS: dict[str, dict[str, int]] = {
    "solo": {"generation": 100, "upload": 10, "search": 100},
    "team": {"generation": 500, "upload": 50, "search": 500},
    "enterprise": {"generation": 2000, "upload": 200, "search": 2000},
}

UNCOUNT = f"""
    UPDATE {SCHEMA}.rate_limit_windows SET count = count - 1
    WHERE user_id = $1 AND family = $2 AND window_start = $3
"""  # noqa: S608 - the schema is a constant identifier; values are parameters
CLEAN_UP = f"DELETE FROM {SCHEMA}.rate_limit_windows WHERE window_start < $1"  # noqa: S608


def window_of(now: datetime) -> datetime:
    """The start of the minute `now` is counted in."""
    return now.replace(second=0, microsecond=0)


def elapsed_of(now: datetime) -> float:
    """How much of its window `now` is into, from 0 to 1."""
    return (now - window_of(now)) / WINDOW


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the current window ends
    retry_after_s: int  # when refused: seconds until a request would be admitted again

    def headers(self) -> dict[str, str]:
        found = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": f"{self.limit};w={int(WINDOW.total_seconds())}",
        }
        if not self.allowed:
            found["Retry-After"] = str(self.retry_after_s)
        return found


class RateLimiter:
    def __init__(self, limits: dict[str, dict[str, int]] | None = None) -> None:
        self.limits = limits or DEFAULT_LIMITS
        self.limits_json = json.dumps(self.limits)  # for the statement that decides in SQL
        self._cleaned: datetime | None = None  # the last window this limiter cleaned up in

    def decide(
        self, plan_tier: str, family: str, current: int, before: int, now: datetime
    ) -> Decision:
        """The decision on a request counted as the `current`-th of its window, `before`
        having been counted in the previous one."""
        limit = self.limits[plan_tier][family]
        window = window_of(now)
        elapsed = elapsed_of(now)
        estimate = current + before * (1 - elapsed)
        reset_s = max(1, math.ceil((window + WINDOW - now).total_seconds()))
        allowed = estimate <= limit
        retry_after = (
            reset_s if before == 0 else self._retry_after(limit, current, before, elapsed, reset_s)
        )
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=max(0, math.floor(limit - estimate)),
            reset_s=reset_s,
            retry_after_s=0 if allowed else retry_after,
        )

    @staticmethod
    def _retry_after(limit: int, current: int, before: int, elapsed: float, reset_s: int) -> int:
        """Seconds until the previous window's weight has decayed enough to admit one more."""
        needed = (current + before - limit) / before  # fraction of the window to wait out
        seconds = math.ceil(max(0.0, needed - elapsed) * WINDOW.total_seconds())
        return max(1, min(seconds, reset_s))

    @staticmethod
    async def uncount(database: Statements, user_id: uuid.UUID, family: str, now: datetime) -> None:
        """Takes back a refused request's count: it must not consume the budget it did not
        get."""
        await database.execute(UNCOUNT, user_id, family, window_of(now))

    async def clean_up_once_a_window(self, database: Statements, now: datetime) -> None:
        """Drops windows too old to weigh on any decision, once per window: however many
        requests a minute brings, it leaves one minute's rows behind."""
        window = window_of(now)
        if self._cleaned == window:
            return
        self._cleaned = window
        await database.execute(CLEAN_UP, window - WINDOW)
