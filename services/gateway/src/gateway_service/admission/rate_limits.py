"""Requests per minute per user and endpoint family, shared by every gateway instance.

The counters live in PostgreSQL: one atomic upsert per request increments the current minute's
window, so two instances can never both admit the last allowed request. The decision uses a
sliding-window estimate (Cloudflare's): the current window's count plus the previous window's,
weighted by how much of it still overlaps the last 60 seconds, which avoids admitting twice the
limit across a window boundary.
"""

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.models import rate_limit_windows

WINDOW = timedelta(minutes=1)
FAMILIES = ("generation", "upload", "search")

# Per minute, from the NetGuru seed (chat/upload); search is as cheap to admit as chat.
DEFAULT_LIMITS: dict[str, dict[str, int]] = {
    "solo": {"generation": 100, "upload": 10, "search": 100},
    "team": {"generation": 500, "upload": 50, "search": 500},
    "enterprise": {"generation": 2000, "upload": 200, "search": 2000},
}
CLEANUP_PROBABILITY = 0.01


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

    async def admit(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        plan_tier: str,
        family: str,
        now: datetime | None = None,
    ) -> Decision:
        """Counts one request and decides; commit the session to make the count durable."""
        limit = self.limits[plan_tier][family]
        now = now or datetime.now(UTC)
        window = now.replace(second=0, microsecond=0)
        previous = window - WINDOW
        counted = (
            insert(rate_limit_windows)
            .values(user_id=user_id, family=family, window_start=window, count=1)
            .on_conflict_do_update(
                index_elements=["user_id", "family", "window_start"],
                set_={"count": rate_limit_windows.c.count + 1},
            )
            .returning(rate_limit_windows.c.count)
            .cte("counted")
        )
        before_count = (
            select(rate_limit_windows.c.count)
            .where(
                rate_limit_windows.c.user_id == user_id,
                rate_limit_windows.c.family == family,
                rate_limit_windows.c.window_start == previous,
            )
            .scalar_subquery()
        )
        # One round trip: the upsert and the previous window's count.
        row = (await session.execute(select(counted.c.count, before_count))).one()
        current, before = int(row[0]), int(row[1] or 0)
        elapsed = (now - window) / WINDOW
        estimate = current + before * (1 - elapsed)
        reset_s = max(1, math.ceil((window + WINDOW - now).total_seconds()))
        allowed = estimate <= limit
        if not allowed:
            # The refused request must not consume the budget it did not get.
            await self._uncount(session, user_id, family, window)
        retry_after = (
            reset_s if before == 0 else self._retry_after(limit, current, before, elapsed, reset_s)
        )
        if random.random() < CLEANUP_PROBABILITY:  # noqa: S311 - not security relevant
            await session.execute(
                delete(rate_limit_windows).where(rate_limit_windows.c.window_start < previous)
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
    async def _uncount(
        session: AsyncSession, user_id: uuid.UUID, family: str, window: datetime
    ) -> None:
        statement = (
            insert(rate_limit_windows)
            .values(user_id=user_id, family=family, window_start=window, count=0)
            .on_conflict_do_update(
                index_elements=["user_id", "family", "window_start"],
                set_={"count": rate_limit_windows.c.count - 1},
            )
        )
        await session.execute(statement)
