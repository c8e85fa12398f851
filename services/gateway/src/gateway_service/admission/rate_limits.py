"""Requests per minute per user and endpoint family, shared by every gateway instance.

The counters live in PostgreSQL and the rule is decided there, by the admission statement
(`sql/admit.sql`): so two instances can never both admit the last allowed request. What is
here: the limits per plan tier, the decision as that statement returns it, and the
housekeeping around it.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from assistant_db import Statements
from gateway_service.sql import statement

WINDOW = timedelta(minutes=1)

# Per minute, from the NetGuru seed (chat/upload); search is as cheap to admit as chat.
DEFAULT_LIMITS: dict[str, dict[str, int]] = {
    "solo": {"generation": 100, "upload": 10, "search": 100},
    "team": {"generation": 500, "upload": 50, "search": 500},
    "enterprise": {"generation": 2000, "upload": 200, "search": 2000},
}
LIMITS_JSON = json.dumps(DEFAULT_LIMITS)  # as the admission statement takes them

UNCOUNT = statement("uncount")
DROP_OLD_WINDOWS = statement("drop_old_windows")


def window_of(now: datetime) -> datetime:
    """The start of the minute `now` is counted in."""
    return now.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the current window ends
    retry_after_s: int  # when refused: seconds until a request would be admitted again

    @classmethod
    def of(cls, row: Any) -> "Decision":
        """From the admission statement's row of a counted request."""
        return cls(
            allowed=row["allowed"],
            limit=row["rate_limit"],
            remaining=row["remaining"],
            reset_s=row["reset_s"],
            retry_after_s=row["retry_after_s"],
        )

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


async def uncount(database: Statements, user_id: uuid.UUID, family: str, now: datetime) -> None:
    """Takes back a refused request's count."""
    await database.execute(UNCOUNT, user_id, family, now)


class WindowCleaner:
    """Drops windows too old to count, once per window: however many requests a minute
    brings, it leaves one minute's rows behind."""

    def __init__(self) -> None:
        self._cleaned: datetime | None = None  # the last window cleaned up in

    async def clean_up_once_a_window(self, database: Statements, now: datetime) -> None:
        window = window_of(now)
        if self._cleaned == window:
            return
        self._cleaned = window
        await database.execute(DROP_OLD_WINDOWS, now)
