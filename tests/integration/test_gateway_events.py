"""Events from the other services reach the gateway's consumer and its projections: budgets,
and the status of the requests it accepted."""

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_messaging.publishing.direct import publish_directly
from assistant_runtime.runtime import ServiceRuntime
from assistant_schemas import Envelope, new_event
from assistant_schemas.budget import BudgetExceededPayload, BudgetExceededV1
from assistant_schemas.documents import (
    DocumentIngestedPayload,
    DocumentIngestedV1,
    DocumentProgressPayload,
    DocumentProgressV1,
)
from assistant_schemas.notion import NotionPageSyncedPayload, NotionPageSyncedV1
from conftest import wait_until
from gateway_service.admission.budgets import current_period
from gateway_service.models import budget_projection, requests
from gateway_service.service import definition
from gateway_service.settings import GatewaySettings


@pytest.fixture
async def gateway_consumer() -> AsyncIterator[ServiceRuntime]:
    runtime = ServiceRuntime(definition, GatewaySettings())
    await runtime.start()

    async def ready() -> bool:
        return (await runtime.readiness()).ready

    await wait_until(ready, timeout=30, what="gateway runtime ready")
    yield runtime
    await runtime.stop()


async def test_budget_exceeded_from_analytics_lands_in_the_gateway_projection(
    bootstrap: str, engine: AsyncEngine, gateway_consumer: ServiceRuntime
) -> None:
    user = uuid.uuid4()
    event = new_event(
        BudgetExceededV1,
        BudgetExceededPayload(
            period=current_period(), limit_kind="cost", limit=Decimal("10"), spent=Decimal("10.02")
        ),
        correlation_id="analytics-test",
        producer="analytics",
        user_id=user,
    )
    await publish_directly(bootstrap, [event])

    async def projected() -> bool:
        async with engine.connect() as connection:
            state = await connection.scalar(
                select(budget_projection.c.state).where(budget_projection.c.user_id == user)
            )
        return state == "hard_exceeded"

    await wait_until(projected, timeout=30, what="the projection to show the excess")
    async with engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    select(budget_projection).where(budget_projection.c.user_id == user)
                )
            )
            .one()
            ._mapping
        )
    assert dict(row) == {
        "user_id": user,
        "period": current_period(),
        "state": "hard_exceeded",
        "spent_usd": Decimal("10.02"),  # what the event carried, kept (it was dropped)
        "tokens": None,
        "hard_limit_usd": Decimal("10"),
        "as_of": event.occurred_at,
    }


def document_event(event_class: type[Any], payload: Any, user: uuid.UUID) -> Envelope[Any]:
    return new_event(
        event_class, payload, correlation_id="ingestion-test", producer="ingestion", user_id=user
    )


async def test_request_status_follows_ingestion_and_notion_events(
    bootstrap: str, engine: AsyncEngine, gateway_consumer: ServiceRuntime
) -> None:
    user, document, upload, generation, save = (uuid.uuid4() for _ in range(5))
    await publish_directly(
        bootstrap,
        [
            document_event(
                DocumentProgressV1,
                DocumentProgressPayload(
                    document_id=document, request_id=upload, stage="parsing", completed=1, total=1
                ),
                user,
            ),
            document_event(
                DocumentIngestedV1,
                DocumentIngestedPayload(
                    document_id=document,
                    request_id=upload,
                    chunk_count=12,
                    embedding_model="all-MiniLM-L6-v2",
                    dimensions=384,
                ),
                user,
            ),
            new_event(
                NotionPageSyncedV1,
                NotionPageSyncedPayload(
                    request_id=save,
                    source_request_id=generation,
                    page_id="p1",
                    url="https://notion.so/p1",
                ),
                correlation_id="c",
                producer="notion_sync",
                user_id=user,
            ),
        ],
    )

    async def status_of(request_id: uuid.UUID) -> Any:
        async with engine.connect() as connection:
            return (
                await connection.execute(select(requests).where(requests.c.id == request_id))
            ).one_or_none()

    async def all_arrived() -> bool:
        rows = [await status_of(r) for r in (upload, save, generation)]
        return all(row is not None for row in rows) and rows[0].status == "succeeded"

    await wait_until(all_arrived, timeout=30, what="three requests projected")
    uploaded = await status_of(upload)
    assert (uploaded.id, uploaded.user_id, uploaded.kind, uploaded.status) == (
        upload,
        user,
        "document",
        "succeeded",
    )
    assert uploaded.detail == {  # every field the two events carried, and nothing stale
        "document_id": str(document),
        "chunk_count": 12,
        "embedding_model": "all-MiniLM-L6-v2",
        "duplicate_of": None,
        "stage": None,
        "parsing": {"completed": 1, "total": 1},
        "chunking": {"completed": 12, "total": 12},
        "embedding": {"completed": 12, "total": 12},
        "indexing": {"completed": 12, "total": 12},
    }
    assert uploaded.created_at <= uploaded.updated_at
    saved, generated = await status_of(save), await status_of(generation)
    assert (saved.kind, saved.status, saved.detail["url"]) == (
        "notion_save",
        "succeeded",
        "https://notion.so/p1",
    )
    assert generated.detail["notion"]["url"] == "https://notion.so/p1"
