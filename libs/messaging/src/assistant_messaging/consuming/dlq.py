"""Operator tool for dead-lettered messages: list them, and re-drive chosen ones.

    python -m assistant_messaging.consuming.dlq list analytics
    python -m assistant_messaging.consuming.dlq redrive analytics --offset 12 --offset 13
    python -m assistant_messaging.consuming.dlq redrive analytics --all [--dry-run]

Kafka is KAFKA_BOOTSTRAP_SERVERS (what the services use), or `--bootstrap-servers`.

Re-driving publishes the original bytes and key to the original topic. Every consumer of that
topic sees it again; those that already handled it skip it through their inbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from assistant_messaging.kafka import headers as h
from assistant_messaging.kafka.admin import DEFAULT_BOOTSTRAP_SERVERS, topic_partitions
from assistant_messaging.publishing.producer import DurableProducer
from assistant_schemas.topics import dead_letter_topic

PROGRESS_EVERY = 100


class NoDeadLetterTopic(LookupError):
    """The service has no dead-letter topic (none was ever created)."""


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    original_topic: str
    original_partition: int
    original_offset: int
    attempt: int
    error: str
    first_failure_at: str
    event_type: str | None
    event_id: str | None

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        found = h.to_dict(record.headers)
        return cls(
            partition=record.partition,
            offset=record.offset,
            original_topic=found.get(h.ORIGINAL_TOPIC, "?"),
            original_partition=int(found.get(h.ORIGINAL_PARTITION, -1)),
            original_offset=int(found.get(h.ORIGINAL_OFFSET, -1)),
            attempt=int(found.get(h.ATTEMPT, 0)),
            error=found.get(h.ERROR, ""),
            first_failure_at=found.get(h.FIRST_FAILURE_AT, ""),
            event_type=found.get(h.EVENT_TYPE),
            event_id=found.get(h.EVENT_ID),
        )


async def read_dead_letters(
    bootstrap_servers: str, service: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record currently in the service's dead-letter topic, oldest first."""
    topic = dead_letter_topic(service)
    numbers = await topic_partitions(bootstrap_servers, topic)
    if not numbers:
        raise NoDeadLetterTopic(f"topic {topic} does not exist")
    partitions = [TopicPartition(topic, number) for number in numbers]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while not await _reached(consumer, ends):
            batch = await consumer.getmany(*partitions, timeout_ms=1000)
            for chunk in batch.values():
                records.extend(chunk)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return False
    return True


async def redrive(
    bootstrap_servers: str,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> int:
    producer = DurableProducer(bootstrap_servers, client_id="dlq-redrive")
    await producer.start()
    count = 0
    try:
        for record in records:
            found = h.to_dict(record.headers)
            original = {k: v for k, v in found.items() if k not in h.FAILURE_HEADERS}
            await producer.send_and_wait(
                found[h.ORIGINAL_TOPIC],
                value=record.value,
                key=record.key,
                headers=h.to_kafka(original),
            )
            count += 1
            if count % PROGRESS_EVERY == 0:
                progress(count, len(records))
    finally:
        await producer.stop()
    return count


async def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant_messaging.consuming.dlq")
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP_SERVERS),
        help="default: KAFKA_BOOTSTRAP_SERVERS, else %(default)s",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print the service's dead letters as JSON lines")
    listing.add_argument("service")
    again = commands.add_parser("redrive", help="publish dead letters to their original topic")
    again.add_argument("service")
    chosen = again.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--offset", type=int, action="append", help="a DLQ offset; repeatable")
    chosen.add_argument("--all", action="store_true")
    again.add_argument("--dry-run", action="store_true", help="say what would be re-driven")
    args = parser.parse_args(argv)

    try:
        records = await read_dead_letters(args.bootstrap_servers, args.service)
    except NoDeadLetterTopic as no_topic:
        raise SystemExit(str(no_topic)) from None
    if args.command == "list":
        for record in records:
            print(json.dumps(asdict(DeadLetter.of(record))))
        print(f"{len(records)} dead letter(s) for {args.service}", file=sys.stderr)
        return 0
    wanted = set(args.offset or [])
    selected = [r for r in records if args.all or r.offset in wanted]
    missing = wanted - {r.offset for r in selected}
    if missing:
        print(f"no dead letter at offset(s) {sorted(missing)}", file=sys.stderr)
        return 2
    if args.dry_run:
        for letter in map(DeadLetter.of, selected):
            print(json.dumps(asdict(letter)))
        print(f"would re-drive {len(selected)} of {len(records)} dead letter(s); nothing sent")
        return 0
    sent = await redrive(
        args.bootstrap_servers,
        selected,
        lambda done, total: print(f"re-drove {done}/{total}", file=sys.stderr, flush=True),
    )
    print(f"re-drove {sent} message(s)")
    return 0


def main() -> None:
    raise SystemExit(asyncio.run(_main(sys.argv[1:])))


if __name__ == "__main__":
    main()
