"""A month's state against its limits, and what is announced when it changes."""

import uuid
from decimal import Decimal

import pytest

from analytics_service.budgets import Month, State
from assistant_schemas.budget import BudgetLimits


def month(spent: str, tokens: int, limits: BudgetLimits, state: State = "ok") -> Month:
    return Month(uuid.uuid4(), "2026-11", Decimal(spent), tokens, 1, 0, state, limits)


LIMITS = BudgetLimits(soft_limit_usd=Decimal(8), hard_limit_usd=Decimal(10), token_limit=1_000_000)


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
def test_state_follows_the_limits(spent: str, tokens: int, expected: State) -> None:
    assert month(spent, tokens, LIMITS).evaluated() == expected


def test_no_limits_is_always_ok() -> None:
    assert month("1000000", 10**12, BudgetLimits()).evaluated() == "ok"


def test_crossing_a_token_limit_names_tokens_as_the_kind() -> None:
    crossed = month("1", 2_000_000, LIMITS)
    exceeded = crossed.exceeded_event("c")
    assert exceeded.payload.limit_kind == "tokens"
    assert exceeded.payload.spent == Decimal(2_000_000)
    updated = crossed.updated_event("hard_exceeded", "c")
    assert updated.payload.state == "hard_exceeded"
    assert updated.user_id == crossed.user_id
