import uuid

import pytest

from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_schemas import ContractError, new_event
from assistant_schemas.topics import Topic
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1


async def noop(event: UsageRecordedV1, context: MessageContext) -> None:
    return None


def test_a_service_consumes_the_registry_topics_it_has_handlers_for() -> None:
    router = EventRouter("analytics")
    assert router.topics() == []
    router.handles(UsageRecordedV1)(noop)
    assert router.topics() == ["usage.recorded"]


def test_explicit_subscriptions_replace_the_registry() -> None:
    own = Topic("tools.usage", "a tool's own topic", (UsageRecordedV1,), key=("user_id",))
    router = EventRouter("tool", [own])
    router.handles(UsageRecordedV1)(noop)
    assert router.topics() == ["tools.usage"]


def test_a_contract_has_one_handler_per_service() -> None:
    router = EventRouter("analytics")
    router.handles(UsageRecordedV1)(noop)
    with pytest.raises(ValueError, match="already handled"):
        router.handles(UsageRecordedV1)(noop)


def test_an_event_without_a_handler_is_a_contract_error() -> None:
    event = new_event(
        UsageRecordedV1,
        UsageRecordedPayload(request_id=uuid.uuid4(), usage_type="llm", provider="p", model="m"),
        correlation_id="c",
        producer="tests",
    )
    with pytest.raises(ContractError, match=r"gateway has no handler for usage\.recorded v1"):
        EventRouter("gateway").handler_for(event)


async def test_a_batch_handler_also_serves_one_event_at_a_time() -> None:
    """The isolating pass calls a batch handler with a single event per savepoint."""
    router = EventRouter("analytics")
    seen: list[list[UsageRecordedV1]] = []

    @router.handles_batch(UsageRecordedV1)
    async def record(events: list[UsageRecordedV1], context: MessageContext) -> None:
        seen.append(events)

    event = new_event(
        UsageRecordedV1,
        UsageRecordedPayload(request_id=uuid.uuid4(), usage_type="llm", provider="p", model="m"),
        correlation_id="c",
        producer="tests",
    )
    assert router.batch_handler_for(event) is record
    await router.handler_for(event)(event, None)  # type: ignore[arg-type]
    assert seen == [[event]]
    assert router.topics() == ["usage.recorded"]


def test_jobs_answers_and_broadcasts_are_declared_once_per_contract() -> None:
    router = EventRouter("analytics")

    @router.job(UsageRecordedV1)
    async def job(event: UsageRecordedV1, headers: dict[str, str]) -> None:
        return None

    class Answers:
        async def __call__(self, query: UsageRecordedV1) -> None:
            return None

    router.answers(UsageRecordedV1, Answers)

    @router.hears(UsageRecordedV1)
    async def heard(event: UsageRecordedV1) -> None:
        return None

    assert router.jobs == {UsageRecordedV1: job}
    assert router.answerers == {UsageRecordedV1: Answers}
    assert router.listeners == {UsageRecordedV1: heard}
    assert router.topics() == []  # the event consumer's topics: jobs have their own consumer
    with pytest.raises(ValueError, match="already has a job"):
        router.job(UsageRecordedV1)(job)
