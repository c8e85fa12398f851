"""Operator commands.

    python -m notion_sync_service resync --user <id> [--since 2026-11-01] [--until 2026-12-01]
    python -m notion_sync_service resync --since 2026-11-30 --all [--dry-run]

`resync` replays the saves of a user and/or period from `notion.page.requested`: each failed
one is reopened (its checkpoints kept) and its request published again, so it resumes once the
cause is fixed (a new token, a parent shared again); with `--all`, each synced one also has its
`notion.page.synced` published again, so every projection of it (request status, content
history) converges. Both go through the outbox in one transaction; the running service does the
writing. A save whose request has left the topic (past its retention) is reported, not guessed.
Progress goes to stderr; `--dry-run` reports what it would do and keeps nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from assistant_db import create_engine
from assistant_messaging.publishing.outbox import Outbox
from assistant_runtime.cli import Command
from assistant_schemas import ContractError, decode_event, new_event
from assistant_schemas.notion import (
    NotionPageRequestedV1,
    NotionPageSyncedPayload,
    NotionPageSyncedV1,
)
from assistant_schemas.topics import TOPICS_BY_NAME
from notion_sync_service import pages
from notion_sync_service.models import messaging
from notion_sync_service.settings import NotionSyncSettings

REQUESTS_TOPIC = "notion.page.requested"


def _day(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", type=uuid.UUID, help="only this user's saves")
    parser.add_argument("--since", type=_day, help="saves asked for from this UTC day on")
    parser.add_argument("--until", type=_day, help="saves asked for before this UTC day")
    parser.add_argument(
        "--all", action="store_true", help="re-announce synced pages too, not only failed saves"
    )
    parser.add_argument("--dry-run", action="store_true", help="report, publish nothing")


def _run(settings: NotionSyncSettings, args: argparse.Namespace) -> None:
    if args.user is None and args.since is None:
        raise SystemExit("resync: name --user, --since, or both")
    print(asyncio.run(resync(settings, args)))


async def resync(settings: NotionSyncSettings, args: argparse.Namespace) -> str:
    statuses = ("failed", "synced") if args.all else ("failed",)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            wanted = await pages.finished_between(
                connection, user_id=args.user, since=args.since, until=args.until, statuses=statuses
            )
        _step(f"{len(wanted)} saves match; finding their requests in {REQUESTS_TOPIC}")
        requests = await _requests(settings.kafka_bootstrap_servers, {w.request_id for w in wanted})
        outbox = Outbox(messaging.outbox)
        counts = {"failed": 0, "synced": 0, "missing": 0}
        async with engine.connect() as connection, connection.begin() as transaction:
            for save in wanted:
                request = requests.get(save.request_id)
                if request is None:
                    counts["missing"] += 1
                elif save.status == "failed":
                    await pages.reopen(connection, save.request_id)
                    await outbox.add(connection, request)
                    counts["failed"] += 1
                else:
                    await outbox.add(connection, _synced_again(request, save))
                    counts["synced"] += 1
            if args.dry_run:
                await transaction.rollback()
    finally:
        await engine.dispose()
    return ("dry run, nothing kept: " if args.dry_run else "") + (
        f"re-driven {counts['failed']} failed saves, re-announced {counts['synced']} synced "
        f"pages; {counts['missing']} had no request left in {REQUESTS_TOPIC} (past retention)"
    )


def _step(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _synced_again(request: NotionPageRequestedV1, save: pages.Outcome) -> NotionPageSyncedV1:
    assert save.page_id is not None
    assert save.url is not None
    return new_event(
        NotionPageSyncedV1,
        NotionPageSyncedPayload(
            request_id=save.request_id,
            source_request_id=request.payload.source_request_id,
            page_id=save.page_id,
            url=save.url,
        ),
        correlation_id=request.correlation_id,
        producer="notion_sync",
        user_id=request.user_id,
    )


async def _requests(
    bootstrap: str, request_ids: set[uuid.UUID]
) -> dict[uuid.UUID, NotionPageRequestedV1]:
    """The requests still in the topic among `request_ids`, read from its start to its end."""
    if not request_ids:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: dict[uuid.UUID, NotionPageRequestedV1] = {}
    try:
        count = TOPICS_BY_NAME[REQUESTS_TOPIC].partitions  # the stack creates it as declared
        partitions = [TopicPartition(REQUESTS_TOPIC, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        for number, (partition, end) in enumerate(sorted(ends.items()), 1):
            _step(f"reading partition {number}/{len(ends)} of {REQUESTS_TOPIC}")
            while await consumer.position(partition) < end:
                fetched = await consumer.getmany(partition, timeout_ms=1000)
                for record in fetched.get(partition, []):
                    event = _decoded(record.value)
                    if event is not None and event.payload.request_id in request_ids:
                        found[event.payload.request_id] = event
    finally:
        await consumer.stop()
    return found


def _decoded(value: bytes | None) -> NotionPageRequestedV1 | None:
    try:
        event = decode_event(value or b"")
    except ContractError:
        return None  # it was dead-lettered when it was consumed
    return event if isinstance(event, NotionPageRequestedV1) else None


COMMANDS = (
    Command("resync", "re-drive failed Notion saves (and with --all re-announce synced ones)",
            _arguments, _run),
)  # fmt: skip
