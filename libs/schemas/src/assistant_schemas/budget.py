"""Contracts analytics emits to keep the gateway's budget projection current."""

import uuid
from typing import Literal

from pydantic import Field

from assistant_schemas.common import Usd
from assistant_schemas.envelope import Contract, Envelope

Period = str  # a calendar month, "YYYY-MM"


class BudgetUpdatedPayload(Contract):
    period: Period = Field(pattern=r"^\d{4}-\d{2}$")
    spent_usd: Usd = Field(ge=0)
    tokens: int = Field(ge=0)
    soft_limit_usd: Usd | None = None
    hard_limit_usd: Usd | None = None
    token_limit: int | None = None
    state: Literal["ok", "soft_exceeded", "hard_exceeded"]


class BudgetExceededPayload(Contract):
    period: Period = Field(pattern=r"^\d{4}-\d{2}$")
    limit_kind: Literal["cost", "tokens"]
    limit: Usd
    spent: Usd


class BudgetUpdatedV1(Envelope[BudgetUpdatedPayload]):
    type: Literal["budget.updated"] = "budget.updated"
    version: Literal[1] = 1


class BudgetExceededV1(Envelope[BudgetExceededPayload]):
    type: Literal["budget.exceeded"] = "budget.exceeded"
    version: Literal[1] = 1


class BudgetLimits(Contract):
    """Monthly limits; None means no limit of that kind."""

    soft_limit_usd: Usd | None = Field(default=None, ge=0, le=10_000_000)
    hard_limit_usd: Usd | None = Field(default=None, ge=0, le=10_000_000)
    token_limit: int | None = Field(default=None, ge=0, le=10**13)


class BudgetLimitsQueryPayload(Contract):
    """Read or set a plan tier's limits or one user's override (admin, request/reply).
    `clear` removes a user's override, so the tier's limits apply again."""

    action: Literal["get", "set", "clear"]
    scope: Literal["tier", "user"]
    plan_tier: Literal["solo", "team", "enterprise"] | None = None
    target_user_id: uuid.UUID | None = None
    limits: BudgetLimits | None = None


class BudgetLimitsResultPayload(Contract):
    scope: Literal["tier", "user"]
    plan_tier: str | None = None
    target_user_id: uuid.UUID | None = None
    limits: BudgetLimits | None


class BudgetLimitsQueryV1(Envelope[BudgetLimitsQueryPayload]):
    type: Literal["budget.limits.query"] = "budget.limits.query"
    version: Literal[1] = 1


class BudgetLimitsResultV1(Envelope[BudgetLimitsResultPayload]):
    type: Literal["budget.limits.result"] = "budget.limits.result"
    version: Literal[1] = 1
