"""The budget projection: what analytics last said of each user's spend this month.

Analytics is the single writer of budgets; the gateway only mirrors its events, newest first
(an event older than the one applied is ignored). Admission (`admission.gate`) refuses work
to a user whose current month is over a hard limit, before any provider is called.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.models import budget_projection


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


async def record(
    session: AsyncSession, user_id: uuid.UUID, as_of: datetime, values: dict[str, Any]
) -> None:
    """Applies an event's view of the budget unless a newer one was applied already."""
    statement = insert(budget_projection).values(user_id=user_id, as_of=as_of, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={**values, "as_of": as_of},
        where=budget_projection.c.as_of < statement.excluded.as_of,
    )
    await session.execute(statement)
