"""Usage events for analytics tests, published to the real broker, and the totals the analytics
schema holds for them (ledger, rollups, budget months)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_schemas import new_event
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from service_process import ServiceProcess, free_port

# The seeded price of openai/gpt-4o-mini, USD per million tokens.
INPUT_PRICE, OUTPUT_PRICE, CACHED_PRICE = Decimal("0.15"), Decimal("0.6"), Decimal("0.075")
MILLION = Decimal(1_000_000)


def usage(
    user_id: uuid.UUID,
    *,
    provider: str = "openai",
    model: str = "gpt-4o-mini",
    input_tokens: int = 1000,
    output_tokens: int = 500,
    cached_tokens: int = 0,
    occurred_at: datetime | None = None,
    request_id: uuid.UUID | None = None,
    latency_ms: float = 420.0,
) -> UsageRecordedV1:
    event = new_event(
        UsageRecordedV1,
        UsageRecordedPayload(
            request_id=request_id or uuid.uuid4(),
            usage_type="llm",
            provider=provider,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_tokens=cached_tokens,
            api_calls=1,
            latency_ms=latency_ms,
            ttft_ms=80.0,
        ),
        correlation_id=str(uuid.uuid4()),
        producer="test",
        user_id=user_id,
    )
    return event.model_copy(update={"occurred_at": occurred_at}) if occurred_at else event


def gpt_4o_mini_cost(event: UsageRecordedV1) -> Decimal:
    """The ledger's cost of one event: exact, then rounded half up to 8 decimals."""
    p = event.payload
    exact = (
        (p.input_tokens - p.cached_tokens) * INPUT_PRICE
        + p.cached_tokens * CACHED_PRICE
        + p.output_tokens * OUTPUT_PRICE
    ) / MILLION
    return exact.quantize(Decimal("1e-8"), ROUND_HALF_UP)


async def publish(bootstrap: str, events: Iterable[UsageRecordedV1], copies: int = 1) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sends = [
            await producer.send("usage.recorded", event.to_json(), key=str(event.user_id).encode())
            for event in events
            for _ in range(copies)
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def publish_raw(bootstrap: str, value: bytes, key: bytes) -> None:
    """A message as another system might send it, valid or not."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("usage.recorded", value, key=key)
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Totals:
    rows: int
    tokens: int
    cost: Decimal


# (rows, tokens, cost) as each table counts them: a ledger row is one call.
TOTALS_SQL = {
    "ledger": "SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0),"
    " coalesce(sum(cost_usd), 0) FROM analytics.usage_events",
    "rollups": "SELECT coalesce(sum(calls), 0), coalesce(sum(input_tokens + output_tokens), 0),"
    " coalesce(sum(cost_usd), 0) FROM analytics.daily_usage",
    "budgets": "SELECT coalesce(sum(requests), 0), coalesce(sum(tokens), 0),"
    " coalesce(sum(spent_usd), 0) FROM analytics.budget_months",
}


async def totals(engine: AsyncEngine, table: str, users: Sequence[uuid.UUID]) -> Totals:
    statement = text(TOTALS_SQL[table] + " WHERE user_id = ANY(:users)")
    async with engine.connect() as connection:
        row = (await connection.execute(statement, {"users": list(users)})).one()
    return Totals(row[0], row[1], row[2])


async def ledger_totals(engine: AsyncEngine, users: Sequence[uuid.UUID]) -> Totals:
    return await totals(engine, "ledger", users)


async def rollup_totals(engine: AsyncEngine, users: Sequence[uuid.UUID]) -> Totals:
    return await totals(engine, "rollups", users)


async def budget_totals(engine: AsyncEngine, users: Sequence[uuid.UUID]) -> Totals:
    return await totals(engine, "budgets", users)


async def wait_for_rows(
    engine: AsyncEngine,
    users: Sequence[uuid.UUID],
    count: int,
    timeout: float = 60,
    poll_s: float = 0.2,
) -> Totals:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        totals = await ledger_totals(engine, users)
        if totals.rows >= count:
            return totals
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{totals.rows} of {count} usage rows recorded in {timeout}s")
        await asyncio.sleep(poll_s)


def start_analytics(env: dict[str, str] | None = None) -> ServiceProcess:
    port = free_port()
    process = ServiceProcess(
        "analytics_service", port, {**(env or {}), "ANALYTICS_HTTP_PORT": str(port)}
    )
    process.wait_ready(60)
    return process
