"""Generates the AsyncAPI document from the topic registry.

`python -m assistant_schemas.asyncapi docs/asyncapi.yaml` writes it; a test fails when the file
checked in differs from what the code generates.
"""

import sys
from pathlib import Path
from typing import Any

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from assistant_schemas import kafka_headers
from assistant_schemas.topics import SERVICES, TOPICS, dead_letter_topic, retry_topic


def build_document() -> str:
    broker = KafkaBroker("localhost:9092", description="Notion Assistant event backbone")
    for topic in TOPICS:
        consumers = ", ".join(topic.consumers) or "the requester that asked (by partition)"
        kept = "compacted (the latest per key)" if topic.compacted else str(topic.retention)
        for event in topic.events:
            key = " or ".join(topic.key) or "none"
            broker.publisher(
                topic.name,
                title=f"{topic.name}:{event.TYPE}.v{event.VERSION}",
                description=(
                    f"{topic.description}\n\nKey: {key}. Partitions: {topic.partitions}. "
                    f"Retention: {kept}. Consumed by: {consumers}."
                ),
                schema=event,
            )
    spec = AsyncAPI(
        broker,
        title="Notion Assistant events",
        version="1",
        description=(
            "Every message is an envelope (event_id, type, version, occurred_at, correlation_id,"
            " user_id, producer, payload) whose identity is repeated in its headers. Failed"
            " messages move to `<service>.retry` and then to `<service>.dlq`, with headers naming"
            " the original topic, attempt and error."
        ),
    )
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    for message in document["components"]["messages"].values():
        _with_headers(message, kafka_headers.ENVELOPE, optional=kafka_headers.REQUEST_REPLY)
    for service in SERVICES:
        _add_failure_channels(document, service)
    # Sorted keys: FastStream's channel order varies between runs, the file must not.
    return yaml.safe_dump(document, sort_keys=True, width=100)


def _with_headers(
    message: dict[str, Any], required: dict[str, str], optional: dict[str, str] | None = None
) -> None:
    described = {**required, **(optional or {})}
    message["correlationId"] = {"location": f"$message.header#/{kafka_headers.CORRELATION_ID}"}
    message["headers"] = {
        "type": "object",
        "required": sorted(required),
        "properties": {
            name: {"type": "string", "description": text} for name, text in described.items()
        },
    }


def _add_failure_channels(document: dict[str, Any], service: str) -> None:
    """`<service>.retry` and `<service>.dlq`: the failed record's bytes, its failure headers."""
    failure = set(kafka_headers.FAILURE)
    for topic, what, required in (
        (retry_topic(service), "waiting to be handled again (after `x-retry-at`)", failure),
        (
            dead_letter_topic(service),
            "failed on every attempt, or unreadable: for an operator",
            failure - {kafka_headers.RETRY_AT},
        ),
    ):
        message: dict[str, Any] = {
            "title": f"{topic}:failed-record",
            "payload": {
                "description": f"A record {service} failed to handle, {what}: its value and key"
                " unchanged (an event of a topic it consumes, or whatever bytes were sent)."
            },
        }
        _with_headers(message, {**kafka_headers.ENVELOPE, **kafka_headers.FAILURE})
        message["headers"]["required"] = sorted(required)  # the bytes may hold no envelope
        name = f"{topic}:failed-record"
        document["components"]["messages"][f"{name}:Message"] = message
        document["channels"][name] = {
            "address": topic,
            "bindings": {"kafka": {"bindingVersion": "0.4.0", "topic": topic}},
            "description": f"{service}'s failed records, {what}. Written and read by {service}.",
            "messages": {"Message": {"$ref": f"#/components/messages/{name}:Message"}},
            "servers": [{"$ref": "#/servers/development"}],
        }
        document["operations"][name] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/Message"}],
        }


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/asyncapi.yaml")
    target.write_text(build_document())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
