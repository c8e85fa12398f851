"""Every partition a service consumes has exactly one owner, with two workers per service.

A service's event consumer and its job consumer join one consumer group (the service's name)
with different topics (the job consumer also reads the service's retry topic there, for its
jobs' retries); the retry consumer and the query answerer have groups of their own. Kafka must
give each partition of each of those topics to exactly one member: none read twice, none left
unread. Checked from outside, as an operator would, by describing the groups.
"""

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from assistant_schemas.topics import RETRY_PARTITIONS, SERVICES, TOPICS, Topic, retry_topic
from service_process import ServiceProcess, free_port

Partition = tuple[str, int]

# Read whole by every instance, with no group: a cancellation must reach the one running it.
READ_BY_EVERY_INSTANCE = {"generation.cancel_requested"}
SERVICES_WITH_JOBS = {"generation", "notion_sync", "ingestion"}


@dataclass
class Group:
    """What describing a consumer group shows: who holds each partition."""

    owners: Counter[Partition]
    clients: set[str]

    def workers(self, prefix: str) -> set[str]:
        """The worker numbers among members whose client id starts with `prefix`."""
        return {c.removeprefix(prefix)[0] for c in self.clients if c.startswith(prefix)}


def expected_groups(service: str) -> dict[str, set[Partition]]:
    consumed = [t for t in TOPICS if service in t.consumers]
    queries = [t for t in consumed if t.name.endswith(".query")]
    events = [t for t in consumed if t not in queries and t.name not in READ_BY_EVERY_INSTANCE]
    retries = {(retry_topic(service), p) for p in range(RETRY_PARTITIONS)}
    groups = {
        service: every_partition(events) | (retries if service in SERVICES_WITH_JOBS else set()),
        f"{service}.retry": retries,
    }
    if queries:
        groups[f"{service}.queries"] = every_partition(queries)
    return groups


def every_partition(topics: list[Topic]) -> set[Partition]:
    return {(topic.name, p) for topic in topics for p in range(topic.partitions)}


async def describe(admin: AIOKafkaAdminClient, group: str) -> Group:
    [response] = await admin.describe_consumer_groups([group])
    described = Group(Counter(), set())
    for found in response.groups:
        for member in found[5]:  # (id, [instance,] client id, host, metadata, assignment)
            described.clients.add(member[-4])
            if not member[-1]:  # joined, not yet given partitions
                continue
            assignment = ConsumerProtocolMemberAssignment.decode(member[-1])
            for topic, partitions in assignment.assignment:
                described.owners.update((topic, partition) for partition in partitions)
    return described


def settled(group: Group, partitions: set[Partition], named: bool, instance: str) -> bool:
    """Whether the group holds what it should, by both workers of `instance` only."""
    ours = all(client.startswith(instance) for client in group.clients)
    shared = group.workers(instance) == {"1", "2"}
    return set(group.owners) == partitions and (not named or (ours and shared))


@pytest.mark.parametrize("service", SERVICES)
async def test_every_partition_has_exactly_one_owner_among_two_workers(
    service: str, bootstrap: str
) -> None:
    instance = f"{service}-own{uuid.uuid4().hex[:6]}-"  # a worker's client ids start so
    port = free_port()
    prefix = service.upper()
    process = ServiceProcess(
        f"{service}_service",
        port,
        {
            f"{prefix}_HTTP_PORT": str(port),
            f"{prefix}_HTTP_WORKERS": "2",
            f"{prefix}_INSTANCE_ID": instance.removeprefix(f"{service}-").rstrip("-"),
        },
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await asyncio.to_thread(process.wait_ready, 120)
        for name, partitions in expected_groups(service).items():
            # Answerers are named by aiokafka, not by us: their workers cannot be told apart.
            named = not name.endswith(".queries")
            deadline = time.monotonic() + 60  # members a killed process left expire in 10 s
            group = await describe(admin, name)
            while not settled(group, partitions, named, instance) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                group = await describe(admin, name)
            assert set(group.owners) == partitions, (name, partitions ^ set(group.owners))
            assert all(count == 1 for count in group.owners.values()), (name, group.owners)
            if named:
                assert group.workers(instance) == {"1", "2"}, (name, group.clients)
    finally:
        await admin.close()
        process.terminate()
