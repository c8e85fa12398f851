"""A budget.exceeded event on Kafka reaches the gateway's consumer and its projection."""

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_runtime.runtime import ServiceRuntime
from assistant_schemas import new_event
from assistant_schemas.budget import BudgetExceededPayload, BudgetExceededV1
from assistant_schemas.topics import topic_for_event
from conftest import wait_until
from gateway_service.admission.budgets import current_period
from gateway_service.models import budget_projection
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
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        topic = topic_for_event(event)
        await producer.send_and_wait(topic.name, event.to_json(), key=topic.key_for(event))
    finally:
        await producer.stop()

    async def projected() -> bool:
        async with engine.connect() as connection:
            state = await connection.scalar(
                select(budget_projection.c.state).where(budget_projection.c.user_id == user)
            )
        return state == "hard_exceeded"

    await wait_until(projected, timeout=30, what="the projection to show the excess")
