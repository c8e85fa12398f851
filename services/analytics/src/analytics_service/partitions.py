"""Monthly partitions of the ledger: created when a month's first usage arrives, detached (and
archived to CSV) by an operator once the month is old.

A partition is `analytics.usage_events_pYYYYMM` holding [first of month, first of next month)
in UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PARENT = "analytics.usage_events"
# Any constant works: two instances creating the same month serialise on it.
LOCK_KEY = 0x616E616C79746963


def month_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"usage_events_p{month:%Y%m}"


class Partitions:
    """Creates the partitions a batch needs; remembers those it knows exist."""

    def __init__(self) -> None:
        self._known: set[date] = set()

    async def ensure(self, session: AsyncSession, moments: Iterable[datetime]) -> None:
        """Creates the months of `moments`, and the month after each, so that crossing into a
        new month rarely needs DDL while other instances are writing."""
        months = {month_of(m) for m in moments}
        months |= {next_month(month) for month in months}
        for month in sorted(months - self._known):
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            # Dates formatted by this module, never user text: DDL takes no parameters.
            await session.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS analytics.{partition_name(month)} "
                    f"PARTITION OF {PARENT} FOR VALUES FROM ('{month:%Y-%m-%d} 00:00+00') "
                    f"TO ('{next_month(month):%Y-%m-%d} 00:00+00')"
                )
            )
            self._known.add(month)

    def forget(self) -> None:
        """After a rollback the creation may not have committed: check again next time."""
        self._known.clear()


async def existing(connection: asyncpg.Connection) -> list[tuple[str, date]]:
    rows = await connection.fetch(
        """
        SELECT child.relname FROM pg_inherits
        JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid
        JOIN pg_class AS parent ON parent.oid = pg_inherits.inhparent
        JOIN pg_namespace AS ns ON ns.oid = parent.relnamespace
        WHERE ns.nspname = 'analytics' AND parent.relname = 'usage_events'
        ORDER BY child.relname
        """
    )
    found = []
    for row in rows:
        stamp = row["relname"].removeprefix("usage_events_p")
        found.append((row["relname"], date(int(stamp[:4]), int(stamp[4:]), 1)))
    return found


async def detach_before(
    connection: asyncpg.Connection, before: date, archive_dir: Path | None, drop: bool
) -> list[str]:
    """Detaches every partition of a month before `before`; with `archive_dir`, first writes
    it to `<dir>/<partition>.csv` (with a header); with `drop`, drops it once detached.
    Rollups and budgets keep those months' totals: only raw rows leave."""
    if archive_dir is not None:
        await asyncio.to_thread(archive_dir.mkdir, parents=True, exist_ok=True)
    detached = []
    for name, month in await existing(connection):
        if month >= before:
            continue
        if archive_dir is not None:
            await connection.copy_from_table(
                name,
                schema_name="analytics",
                output=str(archive_dir / f"{name}.csv"),
                format="csv",
                header=True,
            )
        await connection.execute(f"ALTER TABLE {PARENT} DETACH PARTITION analytics.{name}")
        if drop:
            await connection.execute(f"DROP TABLE analytics.{name}")
        detached.append(name)
    return detached
