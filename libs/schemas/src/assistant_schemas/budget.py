"""Contracts analytics emits to keep the gateway's budget projection current."""

from decimal import Decimal
from typing import Literal

from pydantic import Field

from assistant_schemas.envelope import Contract, Envelope

Period = str  # a calendar month, "YYYY-MM"


class BudgetUpdatedPayload(Contract):
    period: Period = Field(pattern=r"^\d{4}-\d{2}$")
    spent_usd: Decimal = Field(ge=0)
    tokens: int = Field(ge=0)
    soft_limit_usd: Decimal | None = None
    hard_limit_usd: Decimal | None = None
    token_limit: int | None = None
    state: Literal["ok", "soft_exceeded", "hard_exceeded"]


class BudgetExceededPayload(Contract):
    period: Period = Field(pattern=r"^\d{4}-\d{2}$")
    limit_kind: Literal["cost", "tokens"]
    limit: Decimal
    spent: Decimal


class BudgetUpdatedV1(Envelope[BudgetUpdatedPayload]):
    type: Literal["budget.updated"] = "budget.updated"
    version: Literal[1] = 1


class BudgetExceededV1(Envelope[BudgetExceededPayload]):
    type: Literal["budget.exceeded"] = "budget.exceeded"
    version: Literal[1] = 1
