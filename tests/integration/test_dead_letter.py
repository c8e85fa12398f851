"""Retry topic, dead letter and re-drive, with the real broker."""

import asyncio
import json
import os
import subprocess
import sys
import uuid

import yaml
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_messaging.consuming.dlq import read_dead_letters
from assistant_messaging.kafka import headers as h
from assistant_schemas.asyncapi import build_document
from assistant_schemas.topics import Topic
from conftest import StartProbe, applied_counts, wait_until, write_to_outbox
from messaging_probe import probe


async def dlq_command(bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator's command line, run as a separate process where the services' Kafka is
    configured (KAFKA_BOOTSTRAP_SERVERS), as it would be on their hosts."""
    command = [sys.executable, "-m", "assistant_messaging.consuming.dlq", *args]
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env=environment
    )


async def test_a_poison_message_is_dead_lettered_while_the_partition_keeps_flowing(
    engine: AsyncEngine,
    bootstrap: str,
    service_name: str,
    probe_topic: Topic,
    start_probe: StartProbe,
) -> None:
    await start_probe(retry_max_attempts=3)
    user = probe.usage_event().user_id  # one key: every event on the same partition
    poison = probe.usage_event("poison", user)
    behind = [probe.usage_event("ok", user) for _ in range(20)]

    await write_to_outbox(engine, [poison, *behind], probe_topic)

    async def behind_applied() -> bool:
        counts = await applied_counts(engine, [e.event_id for e in behind])
        return all(n == 1 for n in counts.values())

    await wait_until(behind_applied, timeout=20, what="the events behind the poison message")

    async def dead_lettered() -> bool:
        return len(await read_dead_letters(bootstrap, service_name)) == 1

    await wait_until(dead_lettered, timeout=30, what="poison message in the DLQ", interval=0.5)
    [letter] = await read_dead_letters(bootstrap, service_name)
    found = h.to_dict(letter.headers)
    assert found[h.ORIGINAL_TOPIC] == probe_topic.name
    assert found[h.ATTEMPT] == "3"
    assert "poison" in found[h.ERROR]
    assert found[h.EVENT_ID] == str(poison.event_id)
    assert {h.ORIGINAL_PARTITION, h.ORIGINAL_OFFSET, h.FIRST_FAILURE_AT} <= found.keys()
    # The AsyncAPI document names these headers as they are sent, and no others.
    messages = yaml.safe_load(build_document())["components"]["messages"]
    documented = messages["analytics.dlq:failed-record:Message"]["headers"]
    assert set(documented["required"]) <= found.keys()
    assert set(found) <= set(documented["properties"]), set(found) - set(documented["properties"])
    # Each failed attempt rolled back its writes: the poison event never took effect.
    assert (await applied_counts(engine, [poison.event_id]))[poison.event_id] == 0


async def test_a_transient_failure_succeeds_on_retry(
    engine: AsyncEngine, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe()
    event = probe.usage_event("fail-first")

    await write_to_outbox(engine, [event], probe_topic)

    async def applied() -> bool:
        return (await applied_counts(engine, [event.event_id]))[event.event_id] == 1

    await wait_until(applied, timeout=20, what="the retried event applied")


async def test_contract_violations_are_dead_lettered_with_the_reason(
    engine: AsyncEngine,
    bootstrap: str,
    service_name: str,
    probe_topic: Topic,
    start_probe: StartProbe,
) -> None:
    await start_probe()
    valid = probe.usage_event()
    wrong_type = json.loads(probe.usage_event().to_json())
    wrong_type["payload"]["input_tokens"] = "many"
    missing = json.loads(probe.usage_event().to_json())
    del missing["payload"]["provider"]
    unknown_version = {**json.loads(probe.usage_event().to_json()), "version": 9}
    bodies = [
        b"not json",
        json.dumps(wrong_type).encode(),
        json.dumps(missing).encode(),
        json.dumps(unknown_version).encode(),
        valid.to_json(),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(probe_topic.name, body, key=b"same-partition")
    finally:
        await producer.stop()

    async def valid_applied() -> bool:
        return (await applied_counts(engine, [valid.event_id]))[valid.event_id] == 1

    await wait_until(valid_applied, timeout=20, what="the valid event behind four bad ones")

    async def four_dead() -> bool:
        return len(await read_dead_letters(bootstrap, service_name)) == 4

    await wait_until(four_dead, timeout=20, what="four contract violations in the DLQ")
    errors = [
        h.to_dict(r.headers)[h.ERROR] for r in await read_dead_letters(bootstrap, service_name)
    ]
    assert "not valid JSON" in errors[0]
    assert "payload.input_tokens" in errors[1]
    assert "payload.provider: Field required" in errors[2]
    assert "unknown version 9" in errors[3]
    assert all(e.startswith("contract:") for e in errors)


async def test_re_driving_a_dead_letter_applies_it_once_the_cause_is_fixed(
    engine: AsyncEngine,
    bootstrap: str,
    service_name: str,
    probe_topic: Topic,
    start_probe: StartProbe,
) -> None:
    # The first deployment allows a single attempt, so "fail-first" is dead-lettered at once.
    broken = await start_probe(retry_max_attempts=1)
    event = probe.usage_event("fail-first")
    await write_to_outbox(engine, [event], probe_topic)

    async def dead_lettered() -> bool:
        return len(await read_dead_letters(bootstrap, service_name)) == 1

    await wait_until(dead_lettered, timeout=20, what="the event in the DLQ", interval=0.5)
    # The fix, a deployment that retries, replaces it; the re-driven copy fails once more,
    # is retried, and succeeds.
    await broken.stop()
    await start_probe(retry_max_attempts=3)

    listing = await dlq_command(bootstrap, "list", service_name)
    assert listing.returncode == 0, listing.stderr
    [line] = listing.stdout.splitlines()
    letter = json.loads(line)
    assert letter["event_id"] == str(event.event_id)
    assert letter["original_topic"] == probe_topic.name
    assert "1 dead letter(s)" in listing.stderr

    rehearsal = await dlq_command(bootstrap, "redrive", service_name, "--all", "--dry-run")
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert "would re-drive 1 of 1 dead letter(s); nothing sent" in rehearsal.stdout
    await asyncio.sleep(1)
    assert (await applied_counts(engine, [event.event_id]))[event.event_id] == 0

    redrive = await dlq_command(
        bootstrap, "redrive", service_name, "--offset", str(letter["offset"])
    )
    assert redrive.returncode == 0, redrive.stderr
    assert "re-drove 1 message" in redrive.stdout

    async def applied() -> bool:
        return (await applied_counts(engine, [event.event_id]))[event.event_id] == 1

    await wait_until(applied, timeout=30, what="the re-driven event applied")


async def batch_with_a_poison_event(
    engine: AsyncEngine, probe_topic: Topic
) -> tuple[list[uuid.UUID], uuid.UUID]:
    user = probe.usage_event().user_id
    healthy = [probe.usage_event("ok", user) for _ in range(10)]
    poison = probe.usage_event("poison", user)
    await write_to_outbox(engine, [*healthy[:5], poison, *healthy[5:]], probe_topic)
    ids = [e.event_id for e in healthy]

    async def applied() -> bool:
        return set((await applied_counts(engine, ids)).values()) == {1}

    await wait_until(applied, timeout=20, what="the healthy events of the batch")
    return ids, poison.event_id


async def test_a_handler_with_external_effects_never_runs_twice_for_a_neighbours_failure(
    engine: AsyncEngine, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe(external_effects=True, consumer_batch_size=50)
    healthy, _ = await batch_with_a_poison_event(engine, probe_topic)
    assert {probe.calls[i] for i in healthy} == {1}


async def test_database_only_handlers_are_redone_in_isolation_when_a_neighbour_fails(
    engine: AsyncEngine, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe(consumer_batch_size=50)
    healthy, _ = await batch_with_a_poison_event(engine, probe_topic)
    # The optimistic pass ran the whole batch, failed on the poison event and rolled back; the
    # isolated pass ran each again. The database saw each healthy event exactly once.
    assert 2 in {probe.calls[i] for i in healthy}, "the optimistic pass ran and was redone"
    assert set((await applied_counts(engine, healthy)).values()) == {1}


async def test_null_records_and_unreadable_failure_headers_are_dead_lettered(
    engine: AsyncEngine,
    bootstrap: str,
    service_name: str,
    probe_topic: Topic,
    start_probe: StartProbe,
) -> None:
    """What any producer can send: a tombstone, forged failure headers on a first delivery, a
    retry record whose headers cannot be read. None may stop the partition or loop."""
    runtime = await start_probe()
    forged = probe.usage_event()
    valid = probe.usage_event()
    unreadable_retry = [
        [],  # no x-original-topic
        [(h.ORIGINAL_TOPIC, probe_topic.name.encode())],  # no partition, offset, attempt
        [
            (h.ORIGINAL_TOPIC, probe_topic.name.encode()),
            (h.ORIGINAL_PARTITION, b"\xff"),
            (h.ORIGINAL_OFFSET, b"1"),
            (h.ATTEMPT, b"1"),
        ],
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(probe_topic.name, None, key=b"same-partition")
        await producer.send_and_wait(
            probe_topic.name,
            forged.to_json(),
            key=b"same-partition",
            headers=[(h.ORIGINAL_TOPIC, b"x"), (h.ATTEMPT, b"not a number")],
        )
        for headers in unreadable_retry:
            await producer.send_and_wait(
                f"{service_name}.retry", valid.to_json(), key=b"k", headers=headers
            )
        await producer.send_and_wait(probe_topic.name, valid.to_json(), key=b"same-partition")
    finally:
        await producer.stop()

    async def both_applied() -> bool:
        counts = await applied_counts(engine, [forged.event_id, valid.event_id])
        return set(counts.values()) == {1}

    await wait_until(both_applied, timeout=20, what="the events behind a tombstone")

    async def four_dead() -> bool:
        return len(await read_dead_letters(bootstrap, service_name)) == 4

    await wait_until(four_dead, timeout=20, what="a tombstone and three retry records in the DLQ")
    errors = sorted(
        h.to_dict(r.headers)[h.ERROR] for r in await read_dead_letters(bootstrap, service_name)
    )
    assert "no value" in errors[0]
    assert any("without its 'x-original-topic' header" in e for e in errors)
    assert any("without its 'x-original-partition' header" in e for e in errors)
    assert any("malformed header" in e for e in errors)
    assert (await runtime.readiness()).ready


async def test_a_consumer_failing_again_and_again_makes_the_service_not_ready(
    start_probe: StartProbe,
) -> None:
    """Three failed batches in a row: `/readyz` says which consumer, since when, and why; one
    that goes through makes the service ready again."""
    runtime = await start_probe()
    for _ in range(3):
        runtime.consumer.stalled.failed(ConnectionRefusedError(111, "Connection refused"))
    await asyncio.sleep(1.1)  # readiness is cached for a second

    stuck = await runtime.readiness()
    assert not stuck.ready
    assert stuck.consuming is False
    assert "event consumer failing for" in stuck.detail["consumers"]
    assert "3 attempts" in stuck.detail["consumers"]
    assert "Connection refused" in stuck.detail["consumers"]

    runtime.consumer.stalled.cleared()
    await asyncio.sleep(1.1)
    assert (await runtime.readiness()).ready
