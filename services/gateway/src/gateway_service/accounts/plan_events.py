"""Telling analytics an account's plan tier, so its budgets follow the plan."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountPlanChangedPayload, AccountPlanChangedV1, PlanTier


async def announce_plan(
    events: Outbox, session: AsyncSession, user_id: uuid.UUID, tier: PlanTier, request_id: str
) -> None:
    """Adds `account.plan_changed` to the session's transaction."""
    await events.add(
        session,
        new_event(
            AccountPlanChangedV1,
            AccountPlanChangedPayload(plan_tier=tier),
            correlation_id=request_id,
            producer="gateway",
            user_id=user_id,
        ),
    )
