"""Keeping the inbox to the ids that could still be delivered again.

A record can be redelivered only while its topic keeps it, so an id handled longer ago than the
longest retention of the topics a service consumes (plus a day's margin) can never come back:
its inbox row is deleted, in small batches so no transaction holds many locks.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_messaging.consuming.inbox import Inbox

log = structlog.get_logger(__name__)

MARGIN = timedelta(days=1)


class InboxPruner:
    def __init__(
        self,
        engine: AsyncEngine,
        inbox: Inbox,
        keep: timedelta,
        *,
        interval_s: float = 3600.0,
        batch: int = 10_000,
    ) -> None:
        self._engine = engine
        self._inbox = inbox
        self._keep = keep + MARGIN
        self._interval_s = interval_s
        self._batch = batch

    async def run(self) -> None:
        """Prunes every `interval_s` until cancelled; a failed pass waits for the next one."""
        while True:
            try:
                await self.prune()
            except Exception as error:  # the database is away: the next pass catches up
                log.warning("inbox pruning failed", error=repr(error))
            await asyncio.sleep(self._interval_s)

    async def prune(self) -> int:
        """One pass: deletes every expired id, a batch per transaction; returns how many."""
        before = datetime.now(UTC) - self._keep
        pruned = 0
        while True:
            async with self._engine.begin() as connection:
                deleted = await self._inbox.prune(connection, before, self._batch)
            pruned += deleted
            if deleted < self._batch:
                break
        if pruned:
            log.info("inbox pruned", events=pruned, before=before.isoformat())
        return pruned
