"""Authenticated admission overhead of the gateway, against a bare FastAPI endpoint.

The gateway runs with `--workers` processes (default 2, the machine's cores), the bare
FastAPI app as one uvicorn process. Two kinds of load, each against its same-run baseline:

- closed loop: `wrk` (one thread) keeps 50, then 200 connections busy for the same time,
  which gives the most requests per second each can serve;
- fixed rate: `vegeta` offers 500, then 1,000 requests a second over 200 connections whatever
  the answers' speed (an open loop: a slow answer does not slow the next request down), which
  gives the latency a client sees at that rate; three rounds of each, then all of a rate's
  requests together.

Measured: `GET /v1/me` with a JWT (signature check, the caller's row, their settings) and with
an API key (hash lookup), and the publishing path: an asynchronous `POST /v1/generations`
signed by API keys of 40 users (body validated against the model catalogue; caller, scope,
budget and rate limit decided, and the request's status and outbox rows written, in one
statement once the worker has seen the key; 202), followed by how long the outbox relay takes
to put the last accepted request on Kafka.

A generation process runs until its catalogue announcement has reached the gateway's
projection, then stops, so it does not share the machine's two cores with the gateway while
it is measured; the requests it would have answered are skipped afterwards.

    python -m bench.gateway_admission [--seconds 10] [--connections 50 200]
        [--rates 500 1000] [--rounds 3] [--workers 2]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text

from assistant_db import create_engine
from assistant_schemas.topics import TOPICS_BY_NAME
from assistant_stack.cli import environment
from bench.accounts import PASSWORD, bench_users
from bench.harness import BOOTSTRAP, DATABASE_URL, PROFILE, free_port, serve_until_ready

POST_SCRIPT = Path(__file__).parent / "wrk" / "post_generation.lua"
POST_BODY = Path(__file__).parent / "wrk" / "generation.json"
VEGETA = Path(__file__).parents[1] / ".local" / "tools" / "bin" / "vegeta"
USERS = 40
RATE_CONNECTIONS = 200


def credentials(base: str) -> tuple[str, str]:
    name = f"bench{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{base}/v1/auth/register",
        json={"email": f"{name}@example.org", "username": name, "password": PASSWORD},
    ).raise_for_status()
    token = httpx.post(f"{base}/v1/auth/login", json={"login": name, "password": PASSWORD}).json()[
        "access_token"
    ]
    key = httpx.post(
        f"{base}/v1/api-keys", json={"name": "bench"}, headers={"Authorization": f"Bearer {token}"}
    ).json()["key"]
    return token, key


def wrk(
    url: str,
    connections: int,
    seconds: int,
    header: str | None = None,
    post_keys: str | None = None,
) -> dict[str, float]:
    """One wrk run; with `post_keys` (a file of API keys) it POSTs a generation request."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    if post_keys:
        command[1:1] = ["-s", str(POST_SCRIPT)]
    output = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_KEYS": post_keys or "", "BENCH_BODY": str(POST_BODY)},
    ).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * units[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rate": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def vegeta(url: str, keys: list[str], rate: int, seconds: int) -> bytes:
    """`rate` POSTs a second for `seconds`, signed by `keys` in turn, over a fixed number of
    connections; the latency of each counts from when it was due, not when it was sent.
    Returns vegeta's results, for `reported`."""
    with tempfile.NamedTemporaryFile("w", suffix=".targets", delete=False) as targets:
        for key in keys:
            targets.write(
                f"POST {url}\nAuthorization: Bearer {key}\nContent-Type: application/json\n"
                f"@{POST_BODY}\n\n"
            )
    return subprocess.run(
        [
            str(VEGETA),
            "attack",
            f"-targets={targets.name}",
            f"-rate={rate}/s",
            f"-duration={seconds}s",
            f"-connections={RATE_CONNECTIONS}",
            f"-max-connections={RATE_CONNECTIONS}",
            f"-workers={RATE_CONNECTIONS}",
        ],
        capture_output=True,
        check=True,
    ).stdout


def reported(*results: bytes) -> dict[str, float]:
    """Rate, p50 and p99 of vegeta's results, of one run or of several taken together (every
    request of every run counted once; the rate is the runs' mean)."""
    whole = vegeta_report(*results)
    latencies = whole["latencies"]
    # Taken together, vegeta's throughput would count the time between the runs.
    rates = [vegeta_report(r)["throughput"] for r in results] if len(results) > 1 else None
    return {
        "rate": sum(rates) / len(rates) if rates else whole["throughput"],
        "p50": latencies["50th"] / 1e6,
        "p99": latencies["99th"] / 1e6,
        "errors": whole["requests"] * (1 - whole["success"]),
    }


def vegeta_report(*results: bytes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for number, result in enumerate(results):
            files.append(Path(folder) / f"{number}.bin")
            files[-1].write_bytes(result)
        report: dict[str, Any] = json.loads(
            subprocess.run(
                [str(VEGETA), "report", "-type=json", *map(str, files)],
                capture_output=True,
                check=True,
            ).stdout
        )
    return report


def line(name: str, figures: dict[str, float], baseline: dict[str, float] | None) -> str:
    ratio = (
        f"  ({figures['rate'] / baseline['rate']:.0%} of baseline)" if baseline else "  (baseline)"
    )
    errors = f"  {int(figures['errors'])} errors" if figures["errors"] else ""
    return (
        f"    {name:<26} {figures['rate']:8.0f} req/s   p50 {figures['p50']:7.2f} ms   "
        f"p99 {figures['p99']:7.2f} ms{ratio}{errors}"
    )


async def outbox_drained(timeout_s: float = 120) -> float:
    """Seconds until the gateway's outbox relay has published every accepted request."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout_s:
            async with engine.connect() as connection:
                pending = await connection.scalar(text("SELECT count(*) FROM gateway.outbox"))
            if not pending:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the outbox still holds {pending} events after {timeout_s}s")
    finally:
        await engine.dispose()


async def skip_generation_backlog() -> None:
    """Moves the (stopped) generation group past the requests queued by this benchmark."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, group_id="generation", enable_auto_commit=False
    )
    await consumer.start()
    try:
        topic = TOPICS_BY_NAME["generation.requested"]
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.commit(ends)
    finally:
        await consumer.stop()


def drained(seconds: float) -> str:
    return f"    outbox relay: last accepted request on Kafka {seconds * 1000:.0f} ms after the run"


def print_runs(
    count: int, seconds: int, bare_port: int, base: str, token: str, key: str, keys: str
) -> None:
    bare = f"http://127.0.0.1:{bare_port}/bare"
    baseline = wrk(bare, count, seconds)
    with_jwt = wrk(f"{base}/v1/me", count, seconds, f"Authorization: Bearer {token}")
    with_key = wrk(f"{base}/v1/me", count, seconds, f"Authorization: Bearer {key}")
    post_baseline = wrk(bare, count, seconds, post_keys=keys)
    published = wrk(f"{base}/v1/generations", count, seconds, post_keys=keys)
    drain = asyncio.run(outbox_drained())
    print(f"  {count} concurrent clients")
    print(line("bare FastAPI GET", baseline, None))
    print(line("GET /v1/me (JWT)", with_jwt, baseline))
    print(line("GET /v1/me (API key)", with_key, baseline))
    print(line("bare FastAPI POST", post_baseline, None))
    print(line("POST /v1/generations 202", published, post_baseline))
    print(drained(drain))


def print_rates(
    rates: list[int], rounds: int, seconds: int, bare_port: int, base: str, users: list[str]
) -> None:
    """Each rate `rounds` times, the bare endpoint and the gateway in turn; with several
    rounds, also all of a rate's requests together (this machine's speed varies from minute
    to minute, and one run's p99 with it)."""
    for rate in rates:
        print(f"  {rate} requests/s offered over {RATE_CONNECTIONS} connections (completed/s)")
        bare_runs, gateway_runs = [], []
        for number in range(1, rounds + 1):
            bare_runs.append(vegeta(f"http://127.0.0.1:{bare_port}/bare", users, rate, seconds))
            gateway_runs.append(vegeta(f"{base}/v1/generations", users, rate, seconds))
            drain = asyncio.run(outbox_drained())
            bare, published = reported(bare_runs[-1]), reported(gateway_runs[-1])
            prefix = f"{number}: " if rounds > 1 else ""
            print(line(f"{prefix}bare FastAPI POST", bare, None))
            print(line(f"{prefix}POST /v1/generations 202", published, bare))
            print(drained(drain))
        if rounds > 1:
            bare, published = reported(*bare_runs), reported(*gateway_runs)
            print(line(f"all {rounds}: bare FastAPI POST", bare, None))
            print(line(f"all {rounds}: POST /v1/generations", published, bare))


def wait_for_catalogue(base: str, key: str) -> None:
    """Until generation's catalogue has reached the gateway's projection (503 before)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            accept_one(base, key, timeout=30)
            break
        except httpx.HTTPStatusError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def accept_one(base: str, key: str, timeout: float) -> None:
    httpx.post(
        f"{base}/v1/generations",
        json={"prompt": "warm-up", "model": "mock-1"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
    ).raise_for_status()


def main(seconds: int, connections: list[int], rates: list[int], rounds: int, workers: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    if not VEGETA.exists():
        raise SystemExit(f"vegeta is needed at {VEGETA}: `make bench` installs it")
    bare_port, gateway_port, generation_port = free_port(), free_port(), free_port()
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = {
        **os.environ,
        **environment(PROFILE),
        "GATEWAY_HTTP_PORT": str(gateway_port),
        "GENERATION_HTTP_PORT": str(generation_port),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GENERATION_LOG_LEVEL": "WARNING",
        "GATEWAY_JWT_SECRET": "a" * 40,
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": admin_email,
        "GATEWAY_CATALOG_TTL_S": "3600",  # read once per worker from its projection
        "GATEWAY_HTTP_WORKERS": str(workers),
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        bare = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--log-level", "warning"]
        processes.append(
            serve_until_ready(
                [*bare, "--port", str(bare_port)], f"http://127.0.0.1:{bare_port}/bare"
            )
        )
        for service, port in (("gateway", gateway_port), ("generation", generation_port)):
            processes.append(
                serve_until_ready(
                    [sys.executable, "-m", f"{service}_service", "serve"],
                    f"http://127.0.0.1:{port}/readyz",
                    env=env,
                )
            )
        generation = processes[-1]
        base = f"http://127.0.0.1:{gateway_port}"
        token, key = credentials(base)
        users = bench_users(base, admin_email, USERS)
        with tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False) as keys:
            keys.write("\n".join(users) + "\n")
        wait_for_catalogue(base, users[0])
        generation.terminate()  # not paused: a paused process would hold its transactions open
        generation.wait(60)
        # Each worker reads the catalogue into memory (kept an hour here): the kernel spreads
        # new connections over the workers, so a few per worker reach them all.
        for _ in range(8 * workers):
            accept_one(base, users[0], timeout=30)
        print(f"Gateway admission, {workers} gateway workers, {seconds}s per run")
        print("Closed loop: wrk with one thread")
        for count in connections:
            print_runs(count, seconds, bare_port, base, token, key, keys.name)
        print("Fixed rate: vegeta")
        print_rates(rates, rounds, seconds, bare_port, base, users)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        asyncio.run(skip_generation_backlog())


if __name__ == "__main__":
    os.environ.setdefault("STACK_PROFILE", "bench")
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rates", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--rounds", type=int, default=3, help="runs at each fixed rate")
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    main(
        arguments.seconds,
        arguments.connections,
        arguments.rates,
        arguments.rounds,
        arguments.workers,
    )
