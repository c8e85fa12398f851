"""The job consumer against the real broker: a job that fails every time goes to the retry
topic, then the dead letter (ended as failed first), while the records behind it flow."""

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer

from assistant_messaging.consuming.dlq import read_dead_letters
from assistant_messaging.consuming.failures import FailureRouter, RetryPolicy
from assistant_messaging.consuming.jobs import JobConsumer, JobSettings
from assistant_messaging.kafka import headers as h
from assistant_messaging.kafka.admin import ensure_topics
from assistant_messaging.publishing.producer import DurableProducer
from assistant_schemas import Envelope
from conftest import wait_until
from messaging_probe import probe


async def test_a_job_failing_every_time_is_routed_never_looped(bootstrap: str) -> None:
    service = f"jobs_{uuid.uuid4().hex[:8]}"
    topic = probe.probe_topic(f"probe.{service}", partitions=1)  # one partition: one queue
    await ensure_topics(bootstrap, probe.topic_specs(service, topic))
    attempts: Counter[str] = Counter()
    done: set[str] = set()
    abandoned: list[tuple[str, str]] = []

    async def handle(event: Envelope[Any], _: Mapping[str, str]) -> None:
        attempts[str(event.event_id)] += 1
        if event.payload.model == "poison":
            raise ValueError("the same failure every time")
        done.add(str(event.event_id))

    async def abandon(event: Envelope[Any], _: Mapping[str, str], why: str) -> None:
        abandoned.append((str(event.event_id), why))

    producer = DurableProducer(bootstrap, client_id=service)
    await producer.start()
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.2)
    jobs = JobConsumer(
        service=service,
        instance_id=f"{service}-1",
        bootstrap_servers=bootstrap,
        topics=[topic.name],
        handler=handle,
        abandon=abandon,
        failures=FailureRouter(service, producer, policy),
    )
    poison = probe.usage_event("poison")
    behind = [probe.usage_event("ok") for _ in range(20)]
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    try:
        await jobs.start()
        await raw.send_and_wait(topic.name, poison.to_json(), key=b"k")
        await raw.send_and_wait(topic.name, None, key=b"k")  # a tombstone
        for event in behind:
            await raw.send_and_wait(topic.name, event.to_json(), key=str(event.event_id).encode())

        async def behind_done() -> bool:
            return done == {str(e.event_id) for e in behind}

        await wait_until(behind_done, timeout=20, what="the jobs behind a failing one")

        async def dead() -> bool:
            return len(await read_dead_letters(bootstrap, service)) == 2

        await wait_until(dead, timeout=30, what="the failing job and the tombstone dead-lettered")
        await asyncio.sleep(1)  # nothing more may happen to the failing job
    finally:
        await jobs.stop()
        await raw.stop()
        await producer.stop()
    assert attempts[str(poison.event_id)] == 3, "one try per attempt, no loop in place"
    assert abandoned == [(str(poison.event_id), "ValueError: the same failure every time")]
    letters = {
        "tombstone" if r.value is None else json.loads(r.value)["event_id"]: h.to_dict(r.headers)
        for r in await read_dead_letters(bootstrap, service)
    }
    assert letters[str(poison.event_id)][h.ATTEMPT] == "3"
    assert "no value" in letters["tombstone"][h.ERROR]
    assert jobs.stalled.reason is None


async def test_one_users_backlog_does_not_hold_up_anothers_job(bootstrap: str) -> None:
    service = f"jobs_{uuid.uuid4().hex[:8]}"
    topic = probe.probe_topic(f"probe.{service}", partitions=1)  # one queue, in order
    await ensure_topics(bootstrap, probe.topic_specs(service, topic))
    busy, other = uuid.uuid4(), uuid.uuid4()
    finished: list[uuid.UUID | None] = []

    async def handle(event: Envelope[Any], _: Mapping[str, str]) -> None:
        await asyncio.sleep(0.05)  # work that takes a while, as an upload's does
        finished.append(event.user_id)

    producer = DurableProducer(bootstrap, client_id=service)
    await producer.start()
    jobs = JobConsumer(
        service=service,
        instance_id=f"{service}-1",
        bootstrap_servers=bootstrap,
        topics=[topic.name],
        handler=handle,
        failures=FailureRouter(service, producer, RetryPolicy(max_attempts=3)),
        settings=JobSettings(max_in_flight=2),
    )
    backlog = [probe.usage_event("ok", busy) for _ in range(60)]
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    try:
        for event in [*backlog, probe.usage_event("ok", other)]:  # the other user's job last
            await raw.send(topic.name, event.to_json(), key=str(event.event_id).encode())
        await raw.flush()
        await jobs.start()

        async def all_done() -> bool:
            return len(finished) == len(backlog) + 1

        await wait_until(all_done, timeout=30, what="every job")
    finally:
        await jobs.stop()
        await raw.stop()
        await producer.stop()
    # Written after 60 of the busy user's, it waits for a slot, not for all of them: with
    # two slots given in turn, at most a few of theirs finish before it.
    assert finished.index(other) < 5, finished.index(other)
