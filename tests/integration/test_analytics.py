"""The usage ledger against the real broker and database: exactly once through redelivery,
a SIGKILL and two instances; repricing by replay; bad usage dead-lettered or flagged."""

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from analytics_support import (
    budget_totals,
    gpt_4o_mini_cost,
    ledger_totals,
    publish,
    publish_raw,
    rollup_totals,
    start_analytics,
    usage,
    wait_for_rows,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from table_rows import rows

from analytics_service.latency import BOUNDS_MS
from assistant_messaging.consuming.dlq import read_dead_letters
from assistant_messaging.kafka import headers as h
from assistant_messaging.publishing.direct import publish_directly
from assistant_schemas.accounts import AccountPlanChangedPayload, AccountPlanChangedV1
from assistant_schemas.envelope import new_event
from assistant_schemas.usage import UsageRecordedV1


def workload(users: list[uuid.UUID], count: int) -> list[UsageRecordedV1]:
    return [
        usage(
            users[i % len(users)],
            input_tokens=100 + i % 900,
            output_tokens=50 + i % 400,
            cached_tokens=i % 50,
            latency_ms=float(20 + i % 3000),
        )
        for i in range(count)
    ]


async def test_every_column_of_a_usage_event_is_read_back(
    engine: AsyncEngine, bootstrap: str
) -> None:
    """A `usage.recorded` with every field set lands in the ledger column by column."""
    user = uuid.uuid4()
    event = usage(user, input_tokens=1200, output_tokens=340, cached_tokens=200, latency_ms=812.5)
    event = event.model_copy(
        update={
            "payload": event.payload.model_copy(
                update={"call_index": 2, "reasoning_tokens": 30, "embedding_tokens": 0}
            )
        }
    )
    analytics = start_analytics()
    try:
        await publish(bootstrap, [event])
        await wait_for_rows(engine, [user], 1)
    finally:
        analytics.terminate()
    [row] = await rows(
        engine, "SELECT * FROM analytics.usage_events WHERE event_id = :id", id=event.event_id
    )
    p = event.payload
    counts = {
        "input_tokens": 1200,
        "output_tokens": 340,
        "cached_tokens": 200,
        "reasoning_tokens": 30,
        "embedding_tokens": 0,
        "api_calls": 1,
    }
    assert {k: row[k] for k in row if k not in ("price_id", "recorded_at")} == {
        "event_id": event.event_id,
        "occurred_at": event.occurred_at,
        "user_id": user,
        "request_id": p.request_id,
        "usage_type": "llm",
        "call_index": 2,
        "provider": "openai",
        "model": "gpt-4o-mini",
        **counts,
        "latency_ms": 812.5,
        "ttft_ms": 80.0,
        "cost_usd": gpt_4o_mini_cost(event),
    }
    assert row["price_id"] is not None
    assert row["recorded_at"] >= event.occurred_at

    # ... and what it adds to the user's day (a rollup) and month (the budget's totals).
    [day] = await rows(engine, "SELECT * FROM analytics.daily_usage WHERE user_id = :u", u=user)
    buckets = [0] * len(BOUNDS_MS)
    buckets[BOUNDS_MS.index(750)] = 1  # 812.5 ms falls in [750, 1000)
    assert dict(day) == {
        "user_id": user,
        "day": event.occurred_at.astimezone(UTC).date(),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "requests": 0,  # a third call (call_index 2) is no new request
        "calls": 1,
        **counts,
        "cost_usd": gpt_4o_mini_cost(event),
        "unpriced_events": 0,
        "latency_buckets": buckets,
    }
    [month] = await rows(engine, "SELECT * FROM analytics.budget_months WHERE user_id = :u", u=user)
    assert month["updated_at"] >= event.occurred_at
    assert {k: v for k, v in month.items() if k != "updated_at"} == {
        "user_id": user,
        "period": f"{event.occurred_at.astimezone(UTC):%Y-%m}",
        "spent_usd": gpt_4o_mini_cost(event),
        "tokens": 1200 + 340,
        "requests": 0,
        "unpriced_events": 0,
        "state": "ok",
    }


async def test_a_plan_change_is_kept_as_it_came_and_an_older_one_ignored(
    engine: AsyncEngine, bootstrap: str
) -> None:
    user = uuid.uuid4()
    newer = plan_change(user, "team")
    older = plan_change(user, "enterprise", newer.occurred_at - timedelta(minutes=1))
    analytics = start_analytics()
    try:
        await publish_directly(bootstrap, [newer, older])
        handled = "SELECT event_id FROM analytics.inbox WHERE event_id IN (:a, :b)"
        deadline = asyncio.get_running_loop().time() + 30
        while len(await rows(engine, handled, a=newer.event_id, b=older.event_id)) < 2:
            assert asyncio.get_running_loop().time() < deadline, "the changes were not handled"
            await asyncio.sleep(0.2)
        found = await rows(engine, PLAN_OF, u=user)
    finally:
        analytics.terminate()
    assert [dict(row) for row in found] == [
        {"user_id": user, "plan_tier": "team", "as_of": newer.occurred_at}
    ]


PLAN_OF = "SELECT * FROM analytics.user_plans WHERE user_id = :u"


def plan_change(
    user: uuid.UUID, tier: str, occurred_at: datetime | None = None
) -> AccountPlanChangedV1:
    event = new_event(
        AccountPlanChangedV1,
        AccountPlanChangedPayload(plan_tier=tier),
        correlation_id="plans",
        producer="gateway",
        user_id=user,
    )
    return event if occurred_at is None else event.model_copy(update={"occurred_at": occurred_at})


async def test_the_same_usage_delivered_three_times_is_counted_once(
    engine: AsyncEngine, bootstrap: str
) -> None:
    user = uuid.uuid4()
    event = usage(user)
    # The same unit of usage re-sent by its producer under a new event id: also counted once.
    resent = usage(user, request_id=event.payload.request_id)
    analytics = start_analytics()
    try:
        await publish(bootstrap, [event], copies=3)
        await publish(bootstrap, [resent])
        await publish(bootstrap, [usage(user, input_tokens=7, output_tokens=3)])  # a marker
        totals = await wait_for_rows(engine, [user], 2)
        await asyncio.sleep(1.0)  # anything more would have landed by now
        totals = await ledger_totals(engine, [user])
    finally:
        analytics.terminate()
    assert totals.rows == 2
    assert totals.tokens == 1500 + 10
    expected = gpt_4o_mini_cost(event) + gpt_4o_mini_cost(
        usage(user, input_tokens=7, output_tokens=3)
    )
    assert totals.cost == expected
    assert await rollup_totals(engine, [user]) == totals
    assert await budget_totals(engine, [user]) == totals


async def test_sigkill_mid_batch_loses_nothing_and_counts_nothing_twice(
    engine: AsyncEngine, bootstrap: str
) -> None:
    users = [uuid.uuid4() for _ in range(20)]
    committed, in_flight = workload(users, 3000), workload(users, 3000)
    analytics = start_analytics({"ANALYTICS_CONSUMER_BATCH_SIZE": "200"})
    try:
        await publish(bootstrap, committed)
        await wait_for_rows(engine, users, len(committed))
        # Holding the users' rollup rows stops the next batch's statement half way: its ledger
        # rows are written, its rollups wait. The kill lands there, whatever the machine's pace.
        async with engine.connect() as holder, holder.begin():
            await holder.execute(text(HOLD_ROLLUPS), {"users": users})
            holder_pid = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await publish(bootstrap, in_flight)
            await wait_for_blocked_batch(engine, holder_pid)
            analytics.kill()
        partial = (await ledger_totals(engine, users)).rows
        analytics = start_analytics()
        events = committed + in_flight
        await wait_for_rows(engine, users, len(events), timeout=120)
        await asyncio.sleep(1.0)
        totals = await ledger_totals(engine, users)
    finally:
        analytics.terminate()
    assert partial == len(committed)
    assert totals.rows == len(events)
    assert totals.tokens == sum(e.payload.input_tokens + e.payload.output_tokens for e in events)
    assert totals.cost == sum(gpt_4o_mini_cost(e) for e in events)
    assert await rollup_totals(engine, users) == totals
    assert await budget_totals(engine, users) == totals


HOLD_ROLLUPS = "SELECT 1 FROM analytics.daily_usage WHERE user_id = ANY(:users) FOR UPDATE"

# Analytics' batch statement, waiting for the rows `:holder` holds.
BLOCKED_BATCH = """
    SELECT count(*) FROM pg_stat_activity
    WHERE CAST(:holder AS int) = ANY(pg_blocking_pids(pid))
      AND query LIKE '%INSERT INTO analytics.usage_units%'
"""


async def wait_for_blocked_batch(engine: AsyncEngine, holder: int, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with engine.connect() as connection:
        while not (await connection.execute(text(BLOCKED_BATCH), {"holder": holder})).scalar_one():
            assert asyncio.get_running_loop().time() < deadline, "no batch waited for the rollups"
            await asyncio.sleep(0.1)


async def test_two_instances_in_one_group_produce_the_totals_of_one(
    engine: AsyncEngine, bootstrap: str
) -> None:
    users = [uuid.uuid4() for _ in range(40)]
    events = workload(users, 4000)
    instances = [start_analytics(), start_analytics()]
    try:
        await asyncio.sleep(3)  # both hold partitions of usage.recorded
        await publish(bootstrap, events)
        await wait_for_rows(engine, users, len(events), timeout=120)
        await asyncio.sleep(1.0)
        totals = await ledger_totals(engine, users)
    finally:
        for instance in instances:
            instance.terminate()
    assert totals.rows == len(events)
    assert totals.cost == sum(gpt_4o_mini_cost(e) for e in events)
    assert await rollup_totals(engine, users) == totals
    assert await budget_totals(engine, users) == totals


def analytics_command(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "analytics_service", *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


async def test_repricing_updates_costs_rollups_and_budgets_but_not_raw_usage(
    engine: AsyncEngine, bootstrap: str
) -> None:
    user = uuid.uuid4()
    model = f"priced-{uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date()
    analytics_command(
        "set-price", "--provider", "openai", "--model", model,
        "--valid-from", str(today - timedelta(days=30)), "--input", "1", "--output", "2",
    )  # fmt: skip
    events = [
        usage(user, model=model, input_tokens=1_000_000, output_tokens=1_000_000) for _ in range(3)
    ]
    analytics = start_analytics()
    try:
        await publish(bootstrap, events)
        before = await wait_for_rows(engine, [user], 3)
    finally:
        analytics.terminate()
    assert before.cost == Decimal(9)  # 3 x (1 + 2)

    analytics_command(
        "set-price", "--provider", "openai", "--model", model,
        "--valid-from", str(today - timedelta(days=1)), "--input", "2", "--output", "5",
    )  # fmt: skip
    period = ("--start", str(today), "--end", str(today))
    rehearsal = analytics_command("reprice", *period, "--dry-run")
    assert rehearsal.stdout.startswith("dry run, nothing kept: repriced ")
    assert "re-checking budgets of" in rehearsal.stderr  # progress, step by step
    assert await ledger_totals(engine, [user]) == before

    output = analytics_command("reprice", *period).stdout
    repriced = re.search(r"repriced (\d+) usage rows .*\(cost ([\d.]+) → ([\d.]+) USD\)", output)
    assert repriced, output
    assert int(repriced.group(1)) >= 3  # the day's other usage is repriced too
    assert Decimal(repriced.group(3)) - Decimal(repriced.group(2)) >= 12  # 3 x (7 - 3) at least

    after = await ledger_totals(engine, [user])
    assert after.cost == Decimal(21)  # 3 x (2 + 5)
    assert after.rows == before.rows
    assert after.tokens == before.tokens
    assert await rollup_totals(engine, [user]) == after
    assert await budget_totals(engine, [user]) == after


async def dead_letters(bootstrap: str, event_ids: set[str]) -> dict[str, str]:
    consumer = AIOKafkaConsumer(
        "analytics.dlq",
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[str, str] = {}
    try:
        async with asyncio.timeout(60):
            while set(found) != event_ids:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        if record.value is None:
                            continue  # a tombstone another test sent: no event id
                        event_id = json.loads(record.value).get("event_id")
                        if event_id in event_ids:
                            found[event_id] = h.to_dict(record.headers)[h.ERROR]
    finally:
        await consumer.stop()
    return found


async def test_bad_usage_is_dead_lettered_with_its_reason_and_unknown_models_are_flagged(
    engine: AsyncEngine, bootstrap: str
) -> None:
    user = uuid.uuid4()
    future = usage(user, occurred_at=datetime.now(UTC) + timedelta(hours=2))
    nobody = usage(user).model_copy(update={"user_id": None})
    impossible = usage(user, input_tokens=10, cached_tokens=20)
    unknown = usage(user, model="no-such-model")
    good = usage(user)
    negative = json.loads(usage(user).to_json())
    negative["payload"]["output_tokens"] = -5
    analytics = start_analytics()
    try:
        await publish(bootstrap, [future, nobody, impossible, unknown, good])
        await publish_raw(bootstrap, json.dumps(negative).encode(), str(user).encode())
        await wait_for_rows(engine, [user], 2)
        reasons = await dead_letters(
            bootstrap,
            {
                str(future.event_id),
                str(impossible.event_id),
                str(nobody.event_id),
                negative["event_id"],
            },
        )
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{analytics.port}/metrics")).text
    finally:
        analytics.terminate()
    assert "payload.output_tokens" in reasons[negative["event_id"]]
    # Usage is measured by provider and model, never by user; an unpriced model is `other`.
    assert 'usage_tokens_total{kind="input",model="gpt-4o-mini",provider="openai"}' in metrics
    assert 'usage_unpriced_total{provider="openai"}' in metrics
    assert "no-such-model" not in metrics
    assert str(user) not in metrics
    assert "in the future" in reasons[str(future.event_id)]
    assert "cached_tokens 20 exceed input_tokens 10" in reasons[str(impossible.event_id)]
    assert "names no user_id" in reasons[str(nobody.event_id)]
    async with engine.connect() as connection:
        flagged = (
            await connection.execute(
                text("SELECT cost_usd, price_id FROM analytics.usage_events WHERE event_id = :id"),
                {"id": unknown.event_id},
            )
        ).one()
        rollup = (
            await connection.execute(
                text(
                    "SELECT unpriced_events FROM analytics.daily_usage"
                    " WHERE user_id = :user AND model = 'no-such-model'"
                ),
                {"user": user},
            )
        ).scalar_one()
    assert flagged == (None, None)  # unknown, not zero
    assert rollup == 1
    assert (await ledger_totals(engine, [user])).cost == gpt_4o_mini_cost(good)


async def test_an_old_month_is_archived_to_csv_and_detached_by_the_documented_command(
    engine: AsyncEngine, bootstrap: str, tmp_path: Path
) -> None:
    user = uuid.uuid4()
    old = datetime.now(UTC).replace(day=1) - timedelta(days=75)
    month = old.replace(day=1)
    analytics = start_analytics()
    try:
        await publish(bootstrap, [usage(user, occurred_at=old)])
        await wait_for_rows(engine, [user], 1)
    finally:
        analytics.terminate()
    following = (month + timedelta(days=32)).replace(day=1)
    output = analytics_command(
        "detach-partitions", "--before", f"{following:%Y-%m}",
        "--archive-dir", str(tmp_path), "--drop",
    ).stdout  # fmt: skip
    name = f"usage_events_p{month:%Y%m}"
    assert name in output
    archived = list(csv.DictReader((tmp_path / f"{name}.csv").open()))
    assert str(user) in {row["user_id"] for row in archived}
    assert (await ledger_totals(engine, [user])).rows == 0  # raw rows left the ledger
    assert (await rollup_totals(engine, [user])).rows == 1  # the month's totals stay


async def test_a_tombstone_and_forged_retry_headers_never_stop_the_ledger(
    engine: AsyncEngine, bootstrap: str
) -> None:
    """A null record (a tombstone, which any producer can send) and a record carrying
    malformed `x-original-*` headers once made analytics loop on them forever: 8 of 12
    partitions stopped and half the usage never reached the ledger."""
    users = [uuid.uuid4() for _ in range(24)]  # keys spread over every partition
    events = workload(users, 325)
    analytics = start_analytics()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for user in users:
                await producer.send_and_wait("usage.recorded", None, key=str(user).encode())
            await producer.send_and_wait(
                "usage.recorded",
                events[0].to_json(),
                key=str(events[0].user_id).encode(),
                headers=[(h.ORIGINAL_TOPIC, b"usage.recorded"), (h.ORIGINAL_PARTITION, b"\xff")],
            )
        finally:
            await producer.stop()
        await publish(bootstrap, events[1:])
        await wait_for_rows(engine, users, 325)
        dead = await tombstones_dead_lettered(bootstrap, {str(u).encode() for u in users})
        ready = await asyncio.to_thread(analytics.readyz)
    finally:
        analytics.terminate()
    assert (await ledger_totals(engine, users)).rows == 325, "each usage once, none lost"
    assert dead == len(users)
    assert ready is not None
    assert ready.status_code == 200, ready.text


async def tombstones_dead_lettered(bootstrap: str, keys: set[bytes]) -> int:
    """How many of the tombstones keyed `keys` reached the dead-letter topic, with why."""
    found: set[bytes] = set()
    async with asyncio.timeout(30):
        while True:
            found = {
                record.key
                for record in await read_dead_letters(bootstrap, "analytics")
                if record.key in keys
                and record.value is None
                and "no value" in h.to_dict(record.headers)[h.ERROR]
            }
            if found == keys:
                return len(found)
            await asyncio.sleep(0.5)
