"""Recording a batch of usage: ledger, rollups and months in one statement, against the real
schema (each test in a rolled-back transaction)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from analytics_service import ledger
from analytics_service.partitions import Partitions
from assistant_schemas import new_event
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1

pytestmark = pytest.mark.stack


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as s:
        await Partitions().ensure(s, [datetime.now(UTC)])
        yield s


def usage(
    user_id: uuid.UUID, input_tokens: int, request_id: uuid.UUID | None = None
) -> UsageRecordedV1:
    return new_event(
        UsageRecordedV1,
        UsageRecordedPayload(
            request_id=request_id or uuid.uuid4(),
            usage_type="llm",
            provider="openai",
            model="gpt-4o-mini",
            input_tokens=input_tokens,
            output_tokens=100,
            api_calls=1,
            latency_ms=250.0,
        ),
        correlation_id="test",
        producer="test",
        user_id=user_id,
    )


async def test_a_batch_returns_its_totals_per_model(session: AsyncSession) -> None:
    users = [uuid.uuid4(), uuid.uuid4()]
    recorded = await ledger.record(session, [usage(users[0], 1000), usage(users[1], 3000)])
    [totals] = recorded.models
    assert (totals.provider, totals.model, totals.usage_type) == ("openai", "gpt-4o-mini", "llm")
    assert (totals.events, totals.input_tokens, totals.output_tokens) == (2, 4000, 200)
    # 4,000 input tokens at $0.15 and 200 output tokens at $0.60 per million.
    assert totals.cost_usd == Decimal("0.00072")
    assert totals.unpriced_events == 0
    assert recorded.changed_months == []  # no limits crossed


async def test_a_unit_recorded_twice_counts_once(session: AsyncSession) -> None:
    user, request = uuid.uuid4(), uuid.uuid4()
    await ledger.record(session, [usage(user, 1000, request)])
    again = await ledger.record(session, [usage(user, 1000, request)])  # another event id
    assert again.models == []
    spent = await session.scalar(
        text("SELECT tokens FROM analytics.budget_months WHERE user_id = :user"), {"user": user}
    )
    assert spent == 1100


async def test_only_months_whose_state_changes_come_back(session: AsyncSession) -> None:
    over, under = uuid.uuid4(), uuid.uuid4()
    await session.execute(
        text("INSERT INTO analytics.user_budgets (user_id, token_limit) VALUES (:u, 2000)"),
        {"u": over},
    )
    first = await ledger.record(session, [usage(over, 1000), usage(under, 1000)])
    assert first.changed_months == []  # 1,100 of 2,000 tokens
    second = await ledger.record(session, [usage(over, 1000), usage(under, 1000)])
    [month] = second.changed_months
    assert (month.user_id, month.tokens, month.state) == (over, 2200, "ok")
    assert month.evaluated == "hard_exceeded"
    assert month.limits.token_limit == 2000
