import re
import uuid
from typing import Any

import pytest

from assistant_schemas import Envelope, event_classes, new_event
from assistant_schemas.generation import (
    ChatMessage,
    GenerationRequestedPayload,
    GenerationRequestedV1,
)
from assistant_schemas.topics import (
    REPLIES,
    SERVICES,
    TOPICS,
    all_topic_specs,
    dead_letter_topic,
    retry_topic,
    subscriptions,
    topic_for_event,
)


def test_every_contract_travels_on_a_topic() -> None:
    carried = {event for topic in TOPICS for event in topic.events}
    assert set(event_classes()) == carried


def test_outside_the_reply_topic_each_contract_has_exactly_one_topic() -> None:
    homes: dict[type[Envelope[Any]], list[str]] = {}
    for topic in TOPICS:
        if topic.name != REPLIES:
            for event in topic.events:
                homes.setdefault(event, []).append(topic.name)
    assert all(len(names) == 1 for names in homes.values()), homes


@pytest.mark.parametrize("topic", [t for t in TOPICS if t.key], ids=lambda t: t.name)
def test_every_key_path_exists_on_the_topics_contracts(topic: Any) -> None:
    for event in topic.events:
        for path in topic.key:
            model: Any = event
            for part in path.split("."):
                assert part in model.model_fields, f"{event.__name__} has no {path}"
                annotation = model.model_fields[part].annotation
                model = annotation if isinstance(annotation, type) else None


def test_names_follow_domain_dot_event_and_consumers_are_services() -> None:
    for topic in TOPICS:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", topic.name), topic.name
        assert set(topic.consumers) <= set(SERVICES)


def test_each_service_has_retry_and_dead_letter_companions() -> None:
    names = {spec.name for spec in all_topic_specs()}
    for service in SERVICES:
        assert {retry_topic(service), dead_letter_topic(service)} <= names
    assert len(names) == len(all_topic_specs()), "no topic declared twice"


def test_subscriptions_list_what_a_service_consumes() -> None:
    assert [t.name for t in subscriptions("analytics")] == [
        "account.deleted",
        "account.plan_changed",
        "usage.recorded",
        "usage.report.query",
        "budget.limits.query",
    ]


def test_an_event_is_published_on_its_home_topic_keyed_as_declared() -> None:
    request_id, conversation_id = uuid.uuid4(), uuid.uuid4()
    payload = GenerationRequestedPayload(
        request_id=request_id,
        provider="mock",
        model="m",
        messages=[ChatMessage(role="user", content="hi")],
    )
    event = new_event(GenerationRequestedV1, payload, correlation_id="c", producer="gateway")
    topic = topic_for_event(event)
    assert topic.name == "generation.requested"
    assert topic.key_for(event) == str(request_id).encode(), "falls back to the request id"
    with_conversation = event.model_copy(
        update={"payload": payload.model_copy(update={"conversation_id": conversation_id})}
    )
    assert topic.key_for(with_conversation) == str(conversation_id).encode()
