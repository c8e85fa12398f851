"""What a run costs the whole system, read from outside the processes: CPU seconds of process
trees (from /proc), records appended to Kafka, and statements PostgreSQL executed (each one a
round trip from its client, BEGIN and COMMIT included; from pg_stat_statements)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from assistant_db import create_engine
from assistant_stack.processes import running_pid
from assistant_stack.profiles import Profile

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
OWN_QUERIES = "%pg_stat_statements%"


def _processes() -> dict[int, tuple[int, float]]:
    """Every process: its parent and the CPU seconds it has used."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS_PER_S)
    return found


def tree_cpu_s(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process and all of its descendants."""
    processes = _processes()
    totals = dict.fromkeys(roots, 0.0)
    owner_of = {pid: name for name, pid in roots.items()}
    for pid, (_, cpu_s) in processes.items():
        ancestor = pid
        while ancestor in processes and ancestor not in owner_of:
            ancestor = processes[ancestor][0]
        if ancestor in owner_of:
            totals[owner_of[ancestor]] += cpu_s
    return totals


def infrastructure(profile: Profile) -> dict[str, int]:
    """The Kafka broker and the PostgreSQL server of a stack profile."""
    kafka = running_pid("kafka", profile.data_dir)
    postmaster = (profile.postgres_dir / "postmaster.pid").read_text().split()[0]
    if kafka is None:
        raise RuntimeError("the stack's Kafka is not running")
    return {"kafka": kafka, "postgres": int(postmaster)}


async def kafka_records(bootstrap: str) -> int:
    """Records ever appended to every topic (the sum of their end offsets)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [name for name in await admin.list_topics() if not name.startswith("__")]
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def statements(database_url: str) -> int:
    """Statements executed so far, this module's own readings left out."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            total = await connection.scalar(
                text("SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE :own"),
                {"own": OWN_QUERIES},
            )
    finally:
        await engine.dispose()
    return int(total or 0)


@dataclass(frozen=True)
class Reading:
    cpu_s: dict[str, float]
    records: int
    statements: int

    @classmethod
    async def take(cls, roots: Mapping[str, int], bootstrap: str, database_url: str) -> Reading:
        return cls(
            tree_cpu_s(roots), await kafka_records(bootstrap), await statements(database_url)
        )

    def per_stream(self, before: Reading, streams: int) -> str:
        """CPU ms, Kafka records and PostgreSQL statements per stream since `before`."""
        if not streams:
            return "no streams completed"
        cpu = {
            name: (self.cpu_s[name] - before.cpu_s[name]) * 1000 / streams for name in self.cpu_s
        }
        parts = ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items())
        return (
            f"CPU {sum(cpu.values()):.1f} ms/stream ({parts})"
            f" | {(self.records - before.records) / streams:.1f} Kafka records"
            f" | {(self.statements - before.statements) / streams:.1f} PostgreSQL statements"
        )
