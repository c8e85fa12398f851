"""The AsyncAPI document names the headers the outbox sends, as it sends them (it once named
the correlation header `correlation_id`; the outbox sends `correlation-id`)."""

import uuid

import yaml

from assistant_messaging.publishing.outbox import envelope_headers
from assistant_schemas.asyncapi import build_document
from assistant_schemas.envelope import new_event
from assistant_schemas.topics import SERVICES, all_topic_specs
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1


def test_every_event_message_documents_the_headers_the_outbox_sends() -> None:
    document = yaml.safe_load(build_document())
    event = new_event(
        UsageRecordedV1,
        UsageRecordedPayload(
            request_id=uuid.uuid4(), provider="openai", model="gpt-4o-mini", usage_type="llm"
        ),
        correlation_id="c-1",
        producer="test",
        user_id=uuid.uuid4(),
    )
    sent = envelope_headers(event)
    for name, message in document["components"]["messages"].items():
        if name.endswith(":failed-record:Message"):
            continue
        assert set(message["headers"]["required"]) == set(sent), name
        location = message["correlationId"]["location"]
        assert location == "$message.header#/correlation-id", name
        assert location.rsplit("/", 1)[1] in sent


def test_every_topic_the_stack_creates_has_a_channel() -> None:
    document = yaml.safe_load(build_document())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {spec.name for spec in all_topic_specs()} <= addresses
    assert {f"{service}.dlq" for service in SERVICES} <= addresses
