"""Operator commands: change a price, reprice a period, rebuild rollups, archive old months.

    python -m analytics_service set-price --provider openai --model gpt-5 \\
        --valid-from 2026-11-01 --input 1.25 --output 10 --cached 0.125
    python -m analytics_service reprice --start 2026-11-01 --end 2026-11-30 [--dry-run]
    python -m analytics_service rebuild-rollups --start 2026-11-01 --end 2026-11-30 [--dry-run]

Each step is reported on stderr as it starts. `--dry-run` does all the work in a transaction,
reports what changed, and rolls it back.
    python -m analytics_service detach-partitions --before 2026-01 --archive-dir ./archive [--drop]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics_service import budgets, ledger, partitions
from analytics_service.models import messaging
from analytics_service.settings import AnalyticsSettings
from assistant_db import create_engine, session_factory
from assistant_db.engine import asyncpg_dsn
from assistant_messaging.publishing.outbox import Outbox
from assistant_runtime.cli import Command
from assistant_schemas.common import plain_decimal


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _month(value: str) -> date:
    return datetime.strptime(value, "%Y-%m").date()


def _in_transaction(
    settings: AnalyticsSettings,
    work: Callable[[AsyncSession], Awaitable[str]],
    *,
    dry_run: bool = False,
) -> None:
    async def run() -> None:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            async with session_factory(engine)() as session, session.begin() as transaction:
                done = await work(session)
                if dry_run:
                    await transaction.rollback()
                    done = f"dry run, nothing kept: {done}"
                print(done)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _step(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise SystemExit("--end: must not be before --start")


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", type=_day, required=True, help="first UTC day, YYYY-MM-DD")
    parser.add_argument("--end", type=_day, required=True, help="last UTC day, YYYY-MM-DD")
    parser.add_argument(
        "--dry-run", action="store_true", help="do it in a transaction, report, roll back"
    )


# --- set-price ------------------------------------------------------------------------------


def _price_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--valid-from", type=_day, required=True, help="YYYY-MM-DD (UTC)")
    parser.add_argument("--input", type=Decimal, required=True, help="USD per million tokens")
    parser.add_argument("--output", type=Decimal, required=True, help="USD per million tokens")
    parser.add_argument("--cached", type=Decimal, default=None, help="default: the input price")


async def set_price(session: AsyncSession, args: argparse.Namespace) -> str:
    """Adds a price from `valid_from` on, ending the one it replaces there; a later price
    already on record still takes over at its own start."""
    start = datetime.combine(args.valid_from, datetime.min.time(), UTC)
    key = {"provider": args.provider, "model": args.model, "start": start}
    await session.execute(
        text(
            "UPDATE analytics.model_prices SET valid_to = :start"
            " WHERE provider = :provider AND model = :model AND valid_from < :start"
            " AND (valid_to IS NULL OR valid_to > :start)"
        ),
        key,
    )
    await session.execute(
        text(
            "INSERT INTO analytics.model_prices"
            " (provider, model, valid_from, valid_to, input_per_m, output_per_m, cached_per_m,"
            "  source)"
            " VALUES (:provider, :model, :start,"
            "  (SELECT min(valid_from) FROM analytics.model_prices"
            "   WHERE provider = :provider AND model = :model AND valid_from > :start),"
            "  :input, :output, :cached, 'set-price')"
            " ON CONFLICT (provider, model, valid_from) DO UPDATE SET"
            "  input_per_m = excluded.input_per_m, output_per_m = excluded.output_per_m,"
            "  cached_per_m = excluded.cached_per_m, source = excluded.source"
        ),
        {**key, "input": args.input, "output": args.output, "cached": args.cached},
    )
    return (
        f"{args.provider}/{args.model}: {args.input} in, {args.output} out per million tokens "
        f"from {args.valid_from}; run `reprice --start {args.valid_from} --end <today>` to "
        "apply it to usage already recorded"
    )


# --- reprice / rebuild-rollups --------------------------------------------------------------


async def _lock_totals(session: AsyncSession) -> None:
    """Holds the consumer's writes to rollups and budgets until this transaction commits, so
    a batch recorded meanwhile is added on top of the rebuilt totals, not lost under them."""
    await session.execute(
        text("LOCK TABLE analytics.daily_usage, analytics.budget_months IN EXCLUSIVE MODE")
    )


def _months(start: date, end: date) -> list[str]:
    month, last, found = start.replace(day=1), end.replace(day=1), []
    while month <= last:
        found.append(f"{month:%Y-%m}")
        month = partitions.next_month(month)
    return found


async def rebuild_budgets(session: AsyncSession, start: date, end: date) -> int:
    """Recomputes the months touching [start, end] from the ledger and announces every user
    whose state changed. Returns the users re-checked."""
    outbox = Outbox(messaging.outbox)
    checked = 0
    months = _months(start, end)
    for number, period in enumerate(months, 1):
        _step(f"re-checking budgets of {period} ({number}/{len(months)})")
        totals = await ledger.month_totals(session, period)
        await session.execute(
            text(
                "UPDATE analytics.budget_months AS m SET spent_usd = t.spent, tokens = t.tokens,"
                " requests = t.requests, unpriced_events = t.unpriced, updated_at = now()"
                " FROM unnest(CAST(:users AS uuid[]), CAST(:spent AS numeric[]),"
                "  CAST(:tokens AS bigint[]), CAST(:requests AS bigint[]),"
                "  CAST(:unpriced AS bigint[])) AS t(user_id, spent, tokens, requests, unpriced)"
                " WHERE m.user_id = t.user_id AND m.period = :period"
            ),
            {
                "period": period,
                "users": [t.user_id for t in totals],
                "spent": [t.cost_usd for t in totals],
                "tokens": [t.tokens for t in totals],
                "requests": [t.requests for t in totals],
                "unpriced": [t.unpriced_events for t in totals],
            },
        )
        users = [t.user_id for t in totals]
        for event in await budgets.reevaluate(session, users, f"reprice-{period}", period):
            await outbox.add(session, event)
        checked += len(users)
    return checked


async def reprice(session: AsyncSession, args: argparse.Namespace) -> str:
    await _lock_totals(session)
    before = await ledger.period_cost(session, args.start, args.end)
    _step(f"repricing the usage of {args.start} to {args.end} from the price table")
    repriced = await ledger.reprice(session, args.start, args.end)
    after = await ledger.period_cost(session, args.start, args.end)
    _step(f"{repriced} usage rows repriced; rebuilding their daily rollups")
    rollups = await ledger.rebuild_rollups(session, args.start, args.end)
    users = await rebuild_budgets(session, args.start, args.end)
    return (
        f"repriced {repriced} usage rows from {args.start} to {args.end} (cost "
        f"{plain_decimal(before)} → {plain_decimal(after)} USD); "
        f"{rollups} daily rollups rebuilt; budgets of {users} user-months re-checked"
    )


async def rebuild_rollups(session: AsyncSession, args: argparse.Namespace) -> str:
    await _lock_totals(session)
    _step(f"rebuilding the daily rollups of {args.start} to {args.end}")
    rollups = await ledger.rebuild_rollups(session, args.start, args.end)
    users = await rebuild_budgets(session, args.start, args.end)
    return f"{rollups} daily rollups rebuilt; budgets of {users} user-months re-checked"


# --- detach-partitions ----------------------------------------------------------------------


def _detach_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--before", type=_month, required=True, help="first month kept, YYYY-MM")
    parser.add_argument("--archive-dir", type=Path, default=None, help="write each as CSV first")
    parser.add_argument("--drop", action="store_true", help="drop the detached tables")


def detach(settings: AnalyticsSettings, args: argparse.Namespace) -> None:
    async def run() -> list[str]:
        connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:
            return await partitions.detach_before(
                connection, args.before, args.archive_dir, args.drop
            )
        finally:
            await connection.close()

    detached = asyncio.run(run())
    print(f"detached: {', '.join(detached) or 'nothing before ' + str(args.before)}")


def _transactional(
    work: Callable[[AsyncSession, argparse.Namespace], Awaitable[str]],
) -> Callable[[Any, argparse.Namespace], None]:
    def run(settings: AnalyticsSettings, args: argparse.Namespace) -> None:
        if hasattr(args, "start") and hasattr(args, "end"):
            _check_range(args.start, args.end)
        dry_run = getattr(args, "dry_run", False)
        _in_transaction(settings, lambda session: work(session, args), dry_run=dry_run)

    return run


COMMANDS = (
    Command("set-price", "add a model price from a date on", _price_arguments,
            _transactional(set_price)),
    Command("reprice", "recompute costs, rollups and budgets of a period from the ledger",
            _range_arguments, _transactional(reprice)),
    Command("rebuild-rollups", "recompute the daily rollups and budgets of a period",
            _range_arguments, _transactional(rebuild_rollups)),
    Command("detach-partitions", "detach (and archive) the ledger's months before a month",
            _detach_arguments, detach),
)  # fmt: skip
