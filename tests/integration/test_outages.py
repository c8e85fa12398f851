"""Stopping the shared Kafka broker and PostgreSQL server. Runs after every other test."""

import asyncio
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from analytics_support import start_analytics
from generation_stack import User, register
from ingestion_stack import start_ingestion_stack
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db import create_engine
from assistant_schemas.topics import Topic
from assistant_stack import kafka, postgres
from assistant_stack.processes import stop
from assistant_stack.profiles import Profile
from conftest import StartProbe, applied_counts, wait_until, write_to_outbox
from messaging_probe import probe
from service_process import ServiceProcess, free_port

pytestmark = pytest.mark.outage


def stop_kafka(profile: Profile) -> None:
    assert stop("kafka", profile.data_dir), "the test stack's broker was not running"


async def test_a_broker_restart_while_producing_loses_nothing_committed_to_the_outbox(
    engine: AsyncEngine, profile: Profile, probe_topic: Topic, start_probe: StartProbe
) -> None:
    await start_probe()
    events = []

    async def produce_for(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = [probe.usage_event() for _ in range(5)]
            await write_to_outbox(engine, batch, probe_topic)
            events.extend(batch)
            await asyncio.sleep(0.02)

    producing = asyncio.create_task(produce_for(12))
    await asyncio.sleep(2)
    await asyncio.to_thread(stop_kafka, profile)
    await asyncio.sleep(3)  # events keep being committed to the outbox while the broker is down
    await asyncio.to_thread(kafka.start, profile)
    await producing

    ids = [e.event_id for e in events]

    async def all_applied() -> bool:
        return all(n >= 1 for n in (await applied_counts(engine, ids)).values())

    await wait_until(
        all_applied, timeout=120, what=f"{len(ids)} events after the restart", interval=1
    )
    assert set((await applied_counts(engine, ids)).values()) == {1}


def test_readyz_follows_kafka_and_postgres_going_down_and_coming_back(profile: Profile) -> None:
    port = free_port()
    service = ServiceProcess("analytics_service", port, {"ANALYTICS_HTTP_PORT": str(port)})
    try:
        service.wait_ready(timeout=60)

        stop_kafka(profile)
        service.wait_ready(timeout=60, ready=False)
        response = service.readyz()
        assert response is not None
        assert response.json()["checks"]["kafka"] is False
        kafka.start(profile)
        service.wait_ready(timeout=90)

        postgres.stop(profile)
        service.wait_ready(timeout=30, ready=False)
        response = service.readyz()
        assert response is not None
        assert response.json()["checks"]["database"] is False
        postgres.start(profile)
        service.wait_ready(timeout=60)
    finally:
        service.stop()
        kafka.start(profile)  # leave the stack as we found it, whatever failed
        postgres.start(profile)


async def test_pooled_connections_are_replaced_after_a_database_restart(
    profile: Profile, database_url: str
) -> None:
    engine = create_engine(database_url, pool_size=3)
    try:

        async def query() -> int:
            async with engine.connect() as connection:
                return int(await connection.scalar(text("SELECT 1")) or 0)

        assert list(await asyncio.gather(query(), query(), query())) == [1, 1, 1]  # pool filled
        await asyncio.to_thread(postgres.stop, profile)
        await asyncio.to_thread(postgres.start, profile)
        await asyncio.sleep(0.2)  # the loop sees the old sockets close
        # Every pooled connection is dead; not one query may fail because of it.
        assert list(await asyncio.gather(*(query() for _ in range(6)))) == [1] * 6
    finally:
        await engine.dispose()


@dataclass
class Load:
    """Generations and uploads sent at a steady pace by a thread, and what came back."""

    base_url: str
    users: list[User]
    accepted: list[tuple[User, str, str]] = field(default_factory=list)  # user, kind, id
    statuses: Counter[int] = field(default_factory=Counter)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            sent = 0
            while not self.stopping.is_set():
                user = self.users[sent % len(self.users)]
                if sent % 10 == 0:
                    name = f"note-{uuid.uuid4().hex}.txt"
                    response = http.post(
                        "/v1/documents",
                        files=[("files", (name, f"Outage notes {name}".encode()))],
                        headers=user.headers,
                    )
                    if response.status_code == 202:
                        [document] = response.json()["documents"]
                        self.accepted.append((user, "document", document["document_id"]))
                else:
                    response = http.post(
                        "/v1/generations", json={"prompt": f"outage {sent}"}, headers=user.headers
                    )
                    if response.status_code == 202:
                        self.accepted.append((user, "generation", response.json()["request_id"]))
                self.statuses[response.status_code] += 1
                if response.status_code == 503 and "retry-after" not in response.headers:
                    self.statuses[-503] += 1  # counted apart: a 503 must say when to retry
                    print("503 without Retry-After:", response.text)
                sent += 1
                time.sleep(0.08)


def settled(http: httpx.Client, user: User, kind: str, request_id: str) -> str:
    path = f"/v1/requests/{request_id}" if kind == "generation" else f"/v1/documents/{request_id}"
    deadline = time.monotonic() + 180
    while True:
        status = http.get(path, headers=user.headers).json()["status"]
        if status in ("succeeded", "failed") or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.5)


def test_work_accepted_around_database_restarts_and_outages_finishes_and_is_billed_once(
    profile: Profile, tmp_path: Path, database_url: str
) -> None:
    """PostgreSQL restarted, then down for 5 s and for 15 s, under a steady load of generations
    and uploads: no service is restarted, every accepted request reaches a final state, the
    gateway answers 503 (never 500) while the database is away, every usage unit lands once."""
    analytics = start_analytics()
    stacks = start_ingestion_stack(tmp_path)
    stack = next(stacks)
    try:
        with stack.client() as http:
            users = [register(http) for _ in range(8)]
        load = Load(f"http://127.0.0.1:{stack.gateway.port}", users)
        sender = threading.Thread(target=load.run)
        sender.start()
        try:
            time.sleep(3)
            postgres.stop(profile)  # pg_ctl restart -m fast
            postgres.start(profile)
            for down_s in (5, 15):
                time.sleep(4)
                postgres.stop(profile)
                time.sleep(down_s)
                postgres.start(profile)
            time.sleep(4)
        finally:
            load.stopping.set()
            sender.join(60)
            postgres.start(profile)
        errors = [line[-1500:] for line in stack.gateway.output if "unhandled error" in line]
        assert 500 not in load.statuses, (load.statuses, errors)
        assert load.statuses[503] > 0, "the outages were seen"
        with stack.client() as http:
            finals = Counter(settled(http, *accepted) for accepted in load.accepted)
        assert set(finals) <= {"succeeded", "failed"}, finals
        assert finals["succeeded"] >= 0.95 * len(load.accepted), finals
        ids = [
            uuid.UUID(request_id) for _, kind, request_id in load.accepted if kind == "generation"
        ]
        billed = asyncio.run(usage_units(database_url, ids, len(ids)))
        assert billed == {1}, "every generation's call billed exactly once"
        for process in (stack.gateway, stack.generation, stack.ingestion, analytics):
            assert process.process.poll() is None, "no service restarted or died"
    finally:
        analytics.terminate()
        for _ in stacks:  # the generator's clean-up
            pass
        postgres.start(profile)


async def usage_units(database_url: str, request_ids: list[uuid.UUID], expected: int) -> set[int]:
    """How many times each request's first LLM call is in the ledger, once all have arrived."""
    engine = create_engine(database_url, pool_size=1)
    statement = text(
        "SELECT count(*) FROM analytics.usage_events"
        " WHERE request_id = ANY(:ids) AND usage_type = 'llm' AND call_index = 0"
        " GROUP BY request_id"
    )
    try:
        for _ in range(120):
            async with engine.connect() as connection:
                counts = list((await connection.execute(statement, {"ids": request_ids})).scalars())
            if len(counts) >= expected:
                return set(counts)
            await asyncio.sleep(1)
        return set(counts) | {0}
    finally:
        await engine.dispose()
