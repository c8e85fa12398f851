"""A month's state against its limits (the SQL rule), and what is announced when it changes."""

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics_service.budgets import Month, State
from assistant_schemas.budget import BudgetLimits

LIMITS = BudgetLimits(soft_limit_usd=Decimal(8), hard_limit_usd=Decimal(10), token_limit=1_000_000)


def month(spent: str, tokens: int, limits: BudgetLimits, evaluated: State) -> Month:
    return Month(uuid.uuid4(), "2026-11", Decimal(spent), tokens, 1, 0, "ok", limits, evaluated)


async def budget_state(
    connection: AsyncConnection, spent: str, tokens: int, limits: BudgetLimits
) -> str:
    state = await connection.scalar(
        text("SELECT analytics.budget_state(:spent, :tokens, :soft, :hard, :token_limit)"),
        {
            "spent": Decimal(spent),
            "tokens": tokens,
            "soft": limits.soft_limit_usd,
            "hard": limits.hard_limit_usd,
            "token_limit": limits.token_limit,
        },
    )
    return str(state)


@pytest.mark.stack
@pytest.mark.parametrize(
    ("spent", "tokens", "expected"),
    [
        ("0", 0, "ok"),
        ("7.99", 10, "ok"),
        ("8", 10, "soft_exceeded"),
        ("10", 10, "hard_exceeded"),
        ("1", 1_000_000, "hard_exceeded"),
    ],
)
async def test_state_follows_the_limits(
    connection: AsyncConnection, spent: str, tokens: int, expected: State
) -> None:
    assert await budget_state(connection, spent, tokens, LIMITS) == expected


@pytest.mark.stack
async def test_no_limits_is_always_ok(connection: AsyncConnection) -> None:
    assert await budget_state(connection, "1000000", 10**12, BudgetLimits()) == "ok"


def test_crossing_a_token_limit_names_tokens_as_the_kind() -> None:
    crossed = month("1", 2_000_000, LIMITS, "hard_exceeded")
    exceeded = crossed.exceeded_event("c")
    assert exceeded.payload.limit_kind == "tokens"
    assert exceeded.payload.spent == Decimal(2_000_000)
    updated = crossed.updated_event("c")
    assert updated.payload.state == "hard_exceeded"
    assert updated.user_id == crossed.user_id
