"""A router's jobs reach their handlers by contract, with the service's objects."""

import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from assistant_messaging.consuming.dependencies import Provided
from assistant_messaging.consuming.failures import FailureRouter, RetryPolicy
from assistant_messaging.consuming.router import EventRouter
from assistant_runtime import receiving
from assistant_runtime.settings import ServiceSettings
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountDeletedPayload, AccountDeletedV1
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1


class Ledger:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []


class JobSettings(ServiceSettings):
    max_in_flight: int = 4


def usage() -> UsageRecordedV1:
    payload = UsageRecordedPayload(
        request_id=uuid.uuid4(), usage_type="llm", provider="p", model="m"
    )
    return new_event(UsageRecordedV1, payload, correlation_id="c", producer="tests")


def router_with_jobs() -> EventRouter:
    router = EventRouter("analytics")

    @router.job(UsageRecordedV1)
    async def record(event: UsageRecordedV1, headers: Mapping[str, str], ledger: Ledger) -> None:
        ledger.seen.append(("recorded", event.event_id))

    @router.abandons(UsageRecordedV1)
    async def give_up(
        event: UsageRecordedV1, headers: Mapping[str, str], why: str, ledger: Ledger
    ) -> None:
        ledger.seen.append(("abandoned", why))

    return router


def failures() -> FailureRouter:
    return FailureRouter("analytics", None, RetryPolicy())  # type: ignore[arg-type]


async def test_a_job_goes_to_its_contracts_handler_and_another_contract_to_none() -> None:
    ledger = Ledger()
    jobs = receiving.job_consumer(
        router_with_jobs(), Provided([ledger]), JobSettings(), "analytics-1", failures()
    )
    assert jobs is not None
    event = usage()
    await jobs._handler(event, {})
    await jobs._handler(
        new_event(
            AccountDeletedV1,
            AccountDeletedPayload(reason="user_request"),
            correlation_id="c",
            producer="tests",
            user_id=uuid.uuid4(),
        ),
        {},
    )
    assert jobs._abandon is not None
    await jobs._abandon(event, {}, "every attempt failed")
    assert ledger.seen == [("recorded", event.event_id), ("abandoned", "every attempt failed")]
    assert jobs._topics == ["usage.recorded"]


def test_a_service_without_jobs_has_no_job_consumer_and_one_with_jobs_needs_its_limit() -> None:
    assert (
        receiving.job_consumer(
            EventRouter("analytics"), Provided([]), ServiceSettings(), "a-1", failures()
        )
        is None
    )
    with pytest.raises(TypeError, match="max_in_flight"):
        receiving.job_consumer(
            router_with_jobs(), Provided([Ledger()]), ServiceSettings(), "a-1", failures()
        )
    with pytest.raises(LookupError, match="Ledger"):
        receiving.job_consumer(router_with_jobs(), Provided([]), JobSettings(), "a-1", failures())
