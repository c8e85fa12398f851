"""Events the analytics service consumes: usage (in batches), plan changes, deleted accounts."""

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from analytics_service import budgets, intake, ledger, metrics
from analytics_service.models import (
    budget_months,
    daily_usage,
    usage_events,
    user_budgets,
    user_plans,
)
from analytics_service.partitions import Partitions
from analytics_service.queries import BudgetLimitQueries, UsageReports
from assistant_messaging.consuming.failures import PermanentFailure
from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_schemas.accounts import AccountDeletedV1, AccountPlanChangedV1
from assistant_schemas.budget import BudgetLimitsQueryV1
from assistant_schemas.queries import UsageReportQueryV1
from assistant_schemas.usage import UsageRecordedV1

router = EventRouter("analytics")
router.answers(UsageReportQueryV1, UsageReports)
router.answers(BudgetLimitsQueryV1, BudgetLimitQueries)


partitions = Partitions()


@router.handles_batch(UsageRecordedV1)
async def usage_recorded(events: list[UsageRecordedV1], context: MessageContext) -> None:
    """Ledger, rollups and budgets of a whole batch in one statement (two when a month's
    budget state changes)."""
    now = datetime.now(UTC)
    for event in events:
        intake.check(event, now)
    session = context.session
    try:
        await partitions.ensure(session, (event.occurred_at for event in events))
        recorded = await ledger.record(session, events)
        announcements = await budgets.announce(
            session, recorded.changed_months, correlation_id=events[-1].correlation_id
        )
    except Exception:
        partitions.forget()
        raise
    for announcement in announcements:
        await context.outbox.add(session, announcement)
    metrics.observe(events, recorded.models)


@router.handles(AccountPlanChangedV1)
async def plan_changed(event: AccountPlanChangedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("account.plan_changed names no user_id")
    statement = insert(user_plans).values(
        user_id=event.user_id, plan_tier=event.payload.plan_tier, as_of=event.occurred_at
    )
    statement = statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"plan_tier": statement.excluded.plan_tier, "as_of": statement.excluded.as_of},
        where=user_plans.c.as_of < statement.excluded.as_of,  # an older change arriving late
    )
    await context.session.execute(statement)
    for announcement in await budgets.reevaluate(
        context.session, [event.user_id], event.correlation_id, always_announce=True
    ):
        await context.outbox.add(context.session, announcement)


@router.handles(AccountDeletedV1)
async def account_deleted(event: AccountDeletedV1, context: MessageContext) -> None:
    """Removes the user's usage, rollups, budgets and plan; totals of others are untouched."""
    if event.user_id is None:
        raise PermanentFailure("account.deleted names no user_id")
    for table in (usage_events, daily_usage, budget_months, user_budgets, user_plans):
        await context.session.execute(delete(table).where(table.c.user_id == event.user_id))
