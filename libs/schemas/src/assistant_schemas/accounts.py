"""Contract for the end of an account: every service removes or anonymises that user's data."""

from typing import Literal

from pydantic import Field

from assistant_schemas.envelope import Contract, Envelope


class AccountDeletedPayload(Contract):
    reason: Literal["user_request", "administrator"] = Field(
        description="Who asked for the deletion."
    )


class AccountDeletedV1(Envelope[AccountDeletedPayload]):
    """The envelope's user_id names the deleted account. Keyed by user id."""

    type: Literal["account.deleted"] = "account.deleted"
    version: Literal[1] = 1


PlanTier = Literal["solo", "team", "enterprise"]


class AccountPlanChangedPayload(Contract):
    plan_tier: PlanTier


class AccountPlanChangedV1(Envelope[AccountPlanChangedPayload]):
    """An account was registered with, or moved to, a plan tier (its budgets follow it).
    Keyed by user id; the envelope's `occurred_at` orders changes."""

    type: Literal["account.plan_changed"] = "account.plan_changed"
    version: Literal[1] = 1
