"""Dollars are written as people read them: plain notation, exact, no exponent."""

from decimal import Decimal

import pytest

from assistant_schemas.queries import UsageSummary


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("0E-8", "0"),  # a NUMERIC(18,8) zero, as PostgreSQL gives it back
        ("0.00000000", "0"),
        ("0.00001500", "0.000015"),
        ("1.5E-7", "0.00000015"),
        ("12.30000000", "12.3"),
        ("1E+2", "100"),
    ],
)
def test_amounts_are_written_in_plain_notation(stored: str, written: str) -> None:
    summary = UsageSummary(
        period="2026-12",
        spent_usd=Decimal(stored),
        tokens=0,
        requests=0,
        unpriced_events=0,
        soft_limit_usd=None,
        hard_limit_usd=Decimal("100.00"),
        token_limit=None,
        remaining_usd=None,
        remaining_tokens=None,
        state="ok",
    )
    document = summary.model_dump(mode="json")
    assert document["spent_usd"] == written
    assert document["hard_limit_usd"] == "100"
    assert UsageSummary.model_validate(document).spent_usd == Decimal(stored)  # still exact
