"""Events the gateway consumes: budget updates from analytics, the model catalogue from
generation, and the progress and outcome of every request it accepted (the request status
projection)."""

from typing import Any

from assistant_messaging.consuming.failures import PermanentFailure
from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_schemas.budget import BudgetExceededPayload, BudgetExceededV1, BudgetUpdatedV1
from assistant_schemas.catalog import CatalogChangedV1
from gateway_service.admission import budgets
from gateway_service.catalog import repository as catalog_projection
from gateway_service.requests import projection

router = EventRouter("gateway")
projection.register(router)


@router.handles(BudgetUpdatedV1)
async def budget_updated(event: BudgetUpdatedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("budget.updated names no user_id")
    payload = event.payload
    await budgets.record(
        context.session,
        event.user_id,
        event.occurred_at,
        {
            "period": payload.period,
            "state": payload.state,
            "spent_usd": payload.spent_usd,
            "tokens": payload.tokens,
            "hard_limit_usd": payload.hard_limit_usd,
        },
    )


@router.handles(BudgetExceededV1)
async def budget_exceeded(event: BudgetExceededV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("budget.exceeded names no user_id")
    await budgets.record(
        context.session,
        event.user_id,
        event.occurred_at,
        {"period": event.payload.period, "state": "hard_exceeded", **_over(event.payload)},
    )


def _over(payload: BudgetExceededPayload) -> dict[str, Any]:
    """What the event says of the limit passed: spend and its limit, or tokens."""
    if payload.limit_kind == "cost":
        return {"spent_usd": payload.spent, "hard_limit_usd": payload.limit}
    return {"tokens": int(payload.spent)}


@router.handles(CatalogChangedV1)
async def catalog_changed(event: CatalogChangedV1, context: MessageContext) -> None:
    await catalog_projection.record(context.session, event.payload)
