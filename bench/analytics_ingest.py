"""Analytics: sustained ingest of `usage.recorded`, and usage reports over a large ledger.

1. Ingest. An analytics process starts and records 20,000 warm-up events of 2,000 users (so
   the month's partitions exist and every user has today's rollup and month rows, as in
   sustained running), and is paused (SIGSTOP); `--events` usage events of the same users
   (one model with a price) are produced to `usage.recorded`; (a) a raw aiokafka
   consumer (no group, no decoding, no database: the baseline) reads them; then (b) the
   analytics process resumes and records the backlog in the ledger, the rollups and the
   budgets. Reported: events/s of each, the consumer lag (committed offsets) while (b) drains,
   and the exactly-once check (ledger rows == events with the warm-up, rollups == ledger sums).
2. Reports. `--ledger-rows` rows are generated straight into the ledger (SQL, 1,000 users over
   the last 12 months, one of them a registered gateway user), the rollups rebuilt from them with
   the `rebuild-rollups` command, then the registered user's year by day (`GET /v1/usage`) is
   asked 200 times through gateway → Kafka → analytics → gateway. Baseline: the same report's
   SQL on the rollups, run directly.

    python -m bench.analytics_ingest [--events 200000] [--ledger-rows 10000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text

from analytics_service.partitions import Partitions
from assistant_db import create_engine, session_factory
from assistant_schemas import new_event
from assistant_schemas.ids import new_id
from assistant_schemas.topics import TOPICS_BY_NAME
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from assistant_stack.cli import environment
from bench.accounts import bench_users
from bench.harness import BOOTSTRAP, DATABASE_URL, PROFILE, free_port, percentile, serve_until_ready

TOPIC = TOPICS_BY_NAME["usage.recorded"]
WARM_UP_EVENTS = 20_000
PARTITIONS = [TopicPartition(TOPIC.name, p) for p in range(TOPIC.partitions)]


def usage_events(count: int, users: list[uuid.UUID]) -> list[UsageRecordedV1]:
    return [
        new_event(
            UsageRecordedV1,
            UsageRecordedPayload(
                request_id=new_id(),
                usage_type="llm",
                provider="openai",
                model="gpt-4o-mini",
                input_tokens=200 + i % 3000,
                output_tokens=50 + i % 800,
                cached_tokens=i % 100,
                api_calls=1,
                latency_ms=float(100 + i % 4000),
                ttft_ms=float(30 + i % 300),
            ),
            correlation_id="bench",
            producer="bench",
            user_id=users[i % len(users)],
        )
        for i in range(count)
    ]


async def produce(events: list[UsageRecordedV1]) -> dict[TopicPartition, int]:
    """Sends the events; returns each partition's offset before them."""
    starts = await end_offsets()
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=20, acks="all")
    await producer.start()
    try:
        sends = [
            await producer.send(TOPIC.name, e.to_json(), key=str(e.user_id).encode())
            for e in events
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return starts


async def end_offsets() -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(PARTITIONS))
    finally:
        await consumer.stop()


async def raw_rate(starts: dict[TopicPartition, int], count: int) -> float:
    """Events/s of a plain consumer reading the same records (decoding nothing)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, max_poll_records=2000
    )
    await consumer.start()
    try:
        consumer.assign(PARTITIONS)
        for partition, offset in starts.items():
            consumer.seek(partition, offset)
        seen, started = 0, time.perf_counter()
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen += len(records)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def committed_lag(group: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> int:
    committed = {p: await group.committed(p) or 0 for p in ends}
    return sum(max(0, end - committed[p]) for p, end in ends.items())


async def drain(ends: dict[TopicPartition, int], resumed: float) -> list[tuple[float, int]]:
    """Polls the analytics group's committed offsets (the broker's view, so the measurement
    costs the database nothing) until they reach `ends` — offsets are committed after the
    database transaction. Returns the lag seen every 0.1 s, by seconds since `resumed`."""
    group = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id="analytics")
    await group.start()
    lags: list[tuple[float, int]] = []
    try:
        while lag := await committed_lag(group, ends):
            lags.append((time.perf_counter() - resumed, lag))
            await asyncio.sleep(0.1)
    finally:
        await group.stop()
    return lags


def steady_rate(lags: list[tuple[float, int]], backlog: int) -> float | None:
    """Events/s while the backlog went from 90% to 10% of its size: the sustained rate,
    without the resume at the start or the last partial batches at the end."""
    upper = next(((at, lag) for at, lag in lags if lag <= 0.9 * backlog), None)
    lower = next(((at, lag) for at, lag in lags if lag <= 0.1 * backlog), None)
    if upper is None or lower is None or lower[0] <= upper[0]:
        return None
    return (upper[1] - lower[1]) / (lower[0] - upper[0])


async def exactly_once(users: list[uuid.UUID], events: int) -> bool:
    """The users' ledger holds `events` rows, and their rollups add up to their ledger."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    try:
        async with engine.connect() as connection:
            agree = await connection.scalar(
                text(
                    "SELECT (SELECT (count(*)::numeric, sum(input_tokens), sum(cost_usd))"
                    "  FROM analytics.usage_events WHERE user_id = ANY(:users))"
                    " IS NOT DISTINCT FROM"
                    " (SELECT (sum(calls), sum(input_tokens), sum(cost_usd))"
                    "  FROM analytics.daily_usage WHERE user_id = ANY(:users))"
                ),
                {"users": users},
            )
            rows = await connection.scalar(
                text("SELECT count(*) FROM analytics.usage_events WHERE user_id = ANY(:users)"),
                {"users": users},
            )
    finally:
        await engine.dispose()
    return bool(agree) and rows == events


async def generate_ledger(rows: int, user: uuid.UUID) -> None:
    """Empties the (bench stack's) ledger, then writes `rows` usage rows over the last 12
    months for 1,000 users (`user` among them)."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    today = datetime.now(UTC)
    try:
        async with engine.begin() as connection:  # the bench stack's ledger is scratch
            await connection.execute(
                text(
                    "TRUNCATE analytics.usage_events, analytics.usage_units,"
                    " analytics.daily_usage, analytics.budget_months"
                )
            )
        async with session_factory(engine)() as session, session.begin():
            months = [today - timedelta(days=31 * i) for i in range(13)]
            await Partitions().ensure(session, months)
        chunk = 1_000_000
        for offset in range(0, rows, chunk):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        """
                        INSERT INTO analytics.usage_events (event_id, occurred_at, user_id,
                            request_id, usage_type, call_index, provider, model, input_tokens,
                            output_tokens, cached_tokens, reasoning_tokens, embedding_tokens,
                            api_calls, latency_ms, ttft_ms, price_id, cost_usd)
                        SELECT gen_random_uuid(), now() - (n % 360) * interval '1 day'
                                   - (n % 86400) * interval '1 second',
                               CASE WHEN n % 1000 = 0 THEN CAST(:user AS uuid)
                                    ELSE md5((n % 1000)::text)::uuid END,
                               gen_random_uuid(), 'llm', 0, 'openai',
                               (ARRAY['gpt-4o-mini', 'gpt-5', 'gpt-5-mini'])[1 + n % 3],
                               200 + n % 3000, 50 + n % 800, 0, 0, 0, 1,
                               100 + n % 4000, 30 + n % 300, NULL, (n % 1000) / 100000.0
                        FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n
                        """
                    ),
                    {"user": user, "first": offset, "last": min(rows, offset + chunk) - 1},
                )
            print(f"    ledger: {min(rows, offset + chunk):,} rows", flush=True)
    finally:
        await engine.dispose()


async def report_latencies(base: str, key: str, start: date, end: date) -> list[float]:
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        params = {"start": str(start), "end": str(end), "group_by": "day"}
        headers = {"Authorization": f"Bearer {key}"}
        (await http.get("/v1/usage", params=params, headers=headers)).raise_for_status()
        for _ in range(200):
            began = time.perf_counter()
            response = await http.get("/v1/usage", params=params, headers=headers)
            timings.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
    return timings


async def sql_latencies(user: uuid.UUID, start: date, end: date) -> list[float]:
    engine = create_engine(DATABASE_URL, pool_size=1)
    statement = text(
        "SELECT day, sum(requests), sum(input_tokens), sum(output_tokens), sum(cost_usd),"
        " analytics.histogram_sum(latency_buckets) FROM analytics.daily_usage"
        " WHERE user_id = :user AND day BETWEEN :start AND :end GROUP BY day ORDER BY day"
    )
    timings = []
    try:
        async with engine.connect() as connection:
            for _ in range(200):
                began = time.perf_counter()
                (await connection.execute(statement, {"user": user, "start": start, "end": end}))
                timings.append((time.perf_counter() - began) * 1000)
    finally:
        await engine.dispose()
    return timings


def analytics_cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "analytics_service", *args], env=env, check=True)


def main(event_count: int, ledger_rows: int) -> None:
    gateway_port, analytics_port = free_port(), free_port()
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = {
        **os.environ,
        **environment(PROFILE),
        "GATEWAY_HTTP_PORT": str(gateway_port),
        "ANALYTICS_HTTP_PORT": str(analytics_port),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "ANALYTICS_LOG_LEVEL": "WARNING",
        "GATEWAY_JWT_SECRET": "c" * 40,
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": admin_email,
    }
    print(f"Analytics ingest: {event_count:,} usage.recorded events, 2,000 users")
    users = [uuid.uuid4() for _ in range(2000)]
    events = usage_events(event_count, users)
    processes = []
    try:
        analytics = serve_until_ready(
            [sys.executable, "-m", "analytics_service", "serve"],
            f"http://127.0.0.1:{analytics_port}/readyz",
            env=env,
        )
        processes.append(analytics)
        # Warm-up: the month's partitions exist, every user has today's rollup and month rows,
        # and each consumer holds its partitions — what a service sees in sustained running.
        asyncio.run(produce(usage_events(WARM_UP_EVENTS, users)))
        asyncio.run(drain(asyncio.run(end_offsets()), time.perf_counter()))
        # The backlog builds up while it is paused (briefly: a pause longer than the group's
        # session timeout would make the resume a rebalance).
        paused = time.perf_counter()
        analytics.send_signal(signal.SIGSTOP)
        starts = asyncio.run(produce(events))
        ends = asyncio.run(end_offsets())
        resumed = time.perf_counter()
        analytics.send_signal(signal.SIGCONT)
        lags = asyncio.run(drain(ends, resumed))
        rate = event_count / (time.perf_counter() - resumed)
        exact = asyncio.run(exactly_once(users, WARM_UP_EVENTS + event_count))
        raw = asyncio.run(raw_rate(starts, event_count))
        print(f"    (a) raw aiokafka consumer      {raw:9,.0f} events/s  (baseline)")
        print(
            f"    (b) analytics ledger+rollups   {rate:9,.0f} events/s  ({rate / raw:.1%} of "
            f"baseline; paused {resumed - paused:.1f}s while the backlog was produced); "
            f"exactly once (ledger rows = events, rollups = ledger): {'yes' if exact else 'NO'}"
        )
        steady = steady_rate(lags, event_count)
        if steady is not None:
            print(f"    (b) from 90% to 10% of the backlog: {steady:9,.0f} events/s")
        seconds = [lags[i] for i in range(0, len(lags), 10)]
        trace = ", ".join(f"{at:.0f}s {lag:,}" for at, lag in seconds[:: max(1, len(seconds) // 8)])
        print(f"    consumer lag (committed offsets) after resuming: {trace}, then 0")
        if not ledger_rows:
            return
        processes.append(
            serve_until_ready(
                [sys.executable, "-m", "gateway_service", "serve"],
                f"http://127.0.0.1:{gateway_port}/readyz",
                env=env,
            )
        )
        base = f"http://127.0.0.1:{gateway_port}"
        key = bench_users(base, admin_email, 1)[0]
        me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
        user = uuid.UUID(me["id"])
        print(f"Reports over a generated ledger of {ledger_rows:,} rows")
        began = time.perf_counter()
        asyncio.run(generate_ledger(ledger_rows, user))
        end = datetime.now(UTC).date()
        start = end - timedelta(days=365)
        analytics_cli(env, "rebuild-rollups", "--start", str(start), "--end", str(end))
        print(f"    generated and rolled up in {time.perf_counter() - began:.0f}s")
        direct = asyncio.run(sql_latencies(user, start, end))
        through = asyncio.run(report_latencies(base, key, start, end))
        for name, values in (("SQL on the rollups", direct), ("GET /v1/usage", through)):
            print(
                f"    {name:<28} p50 {percentile(values, 50):7.2f} ms  "
                f"p95 {percentile(values, 95):7.2f} ms  (n={len(values)})"
            )
    finally:
        for process in processes:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--ledger-rows", type=int, default=10_000_000)
    options = parser.parse_args()
    main(options.events, options.ledger_rows)
