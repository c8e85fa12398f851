"""Every service migrates, starts, reports health and metrics; misconfiguration is clear."""

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from analytics_support import publish, usage
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db.migrations import context_options
from assistant_stack.profiles import SERVICES
from service_process import ServiceProcess, free_port


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    server = make_url(database_url).set(drivername="postgresql")
    admin = await asyncpg.connect(server.set(database="postgres").render_as_string(False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(False)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def tables_of(url: str, schema: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
    finally:
        await connection.close()
    return {row["table_name"] for row in rows}


def manage(service: str, url: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{service}_service", *command],
        env={"DATABASE_URL": url, "PATH": ""},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_upgrade_to_head_and_downgrade_to_base(
    service: str, empty_database: str
) -> None:
    up = manage(service, empty_database, "migrate")
    assert up.returncode == 0, up.stdout + up.stderr
    assert {"outbox", "inbox", "alembic_version"} <= await tables_of(empty_database, service)

    # Reverting deletes data: it needs a target and a confirmation, and does nothing without.
    assert manage(service, empty_database, "downgrade").returncode == 2
    unconfirmed = manage(service, empty_database, "downgrade", "base")
    assert unconfirmed.returncode == 2
    assert "run it again with --yes" in unconfirmed.stderr
    assert {"outbox", "inbox"} <= await tables_of(empty_database, service)

    down = manage(service, empty_database, "downgrade", "base", "--yes")
    assert down.returncode == 0, down.stdout + down.stderr
    assert await tables_of(empty_database, service) == {"alembic_version"}


@pytest.mark.parametrize("service", SERVICES)
async def test_models_and_migrations_agree_and_autogenerate_sees_only_its_schema(
    service: str, engine: AsyncEngine
) -> None:
    """At head, autogenerate finds nothing to do: the models match the migrations, and the
    other services' tables (which share the database) are invisible to it."""
    metadata = importlib.import_module(f"{service}_service.models").metadata

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts=context_options(metadata.schema))
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


def test_every_service_starts_and_exposes_health_and_metrics() -> None:
    processes = {}
    try:
        for service in SERVICES:
            port = free_port()
            processes[service] = ServiceProcess(
                f"{service}_service", port, {f"{service.upper()}_HTTP_PORT": str(port)}
            )
        for service, process in processes.items():
            process.wait_ready(timeout=60)
            base = f"http://127.0.0.1:{process.port}"
            assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "service": service}
            ready = httpx.get(f"{base}/readyz").json()
            assert ready["checks"] == {
                "database": True,
                "kafka": True,
                "migrations": True,
                "consumers": True,
            }
            metrics = httpx.get(f"{base}/metrics").text
            assert "python_gc_objects_collected_total" in metrics
            log_line = next(line for line in process.output if line.startswith("{"))
            assert f'"service": "{service}"' in log_line, "logs are JSON naming the service"
    finally:
        for process in processes.values():
            process.stop()


def test_a_malformed_database_url_is_a_one_line_error_naming_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "analytics_service", "serve"],
        env={"DATABASE_URL": "mysql://somewhere/db", "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: DATABASE_URL: Value error, scheme 'mysql' is not postgresql://"
    ]


def test_unreachable_dependencies_keep_the_service_up_but_not_ready(database_url: str) -> None:
    port = free_port()
    dead_kafka = f"127.0.0.1:{free_port()}"
    process = ServiceProcess(
        "analytics_service",
        port,
        {
            "ANALYTICS_HTTP_PORT": str(port),
            "KAFKA_BOOTSTRAP_SERVERS": dead_kafka,
        },
    )
    try:
        process.wait_ready(timeout=30, ready=False)
        line = process.wait_for_line(["cannot connect: check KAFKA_BOOTSTRAP_SERVERS"])
        assert line.count("\n") == 1
        response = process.readyz()
        assert response is not None
        assert response.status_code == 503
        assert response.json()["checks"]["kafka"] is False
        assert process.process.poll() is None, "no crash loop: the process stays up"
    finally:
        process.stop()


def workers_that_logged(process: ServiceProcess, text: str, timeout: float = 15) -> set[str]:
    """The workers (`node-1`, `node-2`) with a log line containing `text`, once both have one
    or `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        found = {
            worker
            for line in list(process.output)
            for worker in ("node-1", "node-2")
            if text in line and f'"instance": "{worker}"' in line
        }
        if len(found) == 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def two_workers() -> ServiceProcess:
    """Analytics served by two worker processes, `node-1` and `node-2`."""
    port = free_port()
    return ServiceProcess(
        "analytics_service",
        port,
        {
            "ANALYTICS_HTTP_PORT": str(port),
            "ANALYTICS_HTTP_WORKERS": "2",
            "ANALYTICS_INSTANCE_ID": "node",
        },
    )


def worker_pids(process: ServiceProcess) -> list[int]:
    return [
        int(line.split("Started server process [")[1].split("]")[0])
        for line in list(process.output)
        if "Started server process [" in line
    ]


def test_several_workers_share_one_port_and_stop_together() -> None:
    process = two_workers()
    port = process.port
    try:
        process.wait_ready(timeout=60)
        assert workers_that_logged(process, "Application startup complete") == {"node-1", "node-2"}
        for _ in range(40):  # a new connection each: the kernel spreads them over the workers
            assert httpx.get(f"http://127.0.0.1:{port}/v1/nothing-here").status_code == 404
        assert workers_that_logged(process, '"path": "/v1/nothing-here"') == {"node-1", "node-2"}
        assert process.terminate() == 0
    finally:
        process.stop()


def test_a_worker_that_dies_takes_the_service_down() -> None:
    """So the supervisor restarts the whole service, instead of it serving on at half size."""
    process = two_workers()
    try:
        process.wait_ready(timeout=60)
        os.kill(worker_pids(process)[0], signal.SIGKILL)
        assert process.process.wait(30) != 0
    finally:
        process.stop()


def test_workers_stop_when_their_parent_is_killed() -> None:
    process = two_workers()
    try:
        process.wait_ready(timeout=60)
        workers = worker_pids(process)
        assert len(workers) == 2
        process.kill()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in workers), "orphaned workers kept serving"
    finally:
        process.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.split(") ")[1][0] != "Z"  # a zombie has exited


def handled_total(port: int) -> float:
    """`events_handled_total` of analytics' usage events, as one scrape of /metrics says."""
    scrape = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in scrape.splitlines()
        if line.startswith("events_handled_total{") and 'topic="usage.recorded"' in line
    )


async def test_metrics_add_up_every_workers_values(bootstrap: str) -> None:
    process = two_workers()
    try:
        process.wait_ready(timeout=60)
        await asyncio.sleep(3)  # both workers hold partitions of usage.recorded
        await publish(bootstrap, [usage(uuid.uuid4()) for _ in range(40)])
        # Each scrape on a new connection, which the kernel gives to either worker: with each
        # worker showing only its own values, consecutive scrapes would disagree.
        deadline = time.monotonic() + 30
        scrapes: list[float] = []
        while time.monotonic() < deadline:
            scrapes = [handled_total(process.port) for _ in range(10)]
            if len(set(scrapes)) == 1 and scrapes[0] >= 40:
                break
            await asyncio.sleep(0.5)
        assert len(set(scrapes)) == 1, f"workers disagree: {scrapes}"
        assert scrapes[0] >= 40
    finally:
        process.stop()
