"""Generates the AsyncAPI document from the topic registry.

`python -m assistant_schemas.asyncapi docs/asyncapi.yaml` writes it; a test fails when the file
checked in differs from what the code generates.
"""

import sys
from pathlib import Path

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from assistant_schemas.topics import TOPICS


def build_document() -> str:
    broker = KafkaBroker("localhost:9092", description="Notion Assistant event backbone")
    for topic in TOPICS:
        consumers = ", ".join(topic.consumers) or "the requester that asked (by partition)"
        for event in topic.events:
            key = " or ".join(topic.key) or "none"
            broker.publisher(
                topic.name,
                title=f"{topic.name}:{event.TYPE}.v{event.VERSION}",
                description=(
                    f"{topic.description}\n\nKey: {key}. Partitions: {topic.partitions}. "
                    f"Retention: {topic.retention}. Consumed by: {consumers}."
                ),
                schema=event,
            )
    spec = AsyncAPI(
        broker,
        title="Notion Assistant events",
        version="1",
        description=(
            "Every message is an envelope (event_id, type, version, occurred_at, correlation_id,"
            " user_id, producer, payload). Failed messages move to `<service>.retry` and then to"
            " `<service>.dlq`, with headers naming the original topic, attempt and error."
        ),
    )
    # Sorted keys: FastStream's channel order varies between runs, the file must not.
    return yaml.safe_dump(spec.to_specification().to_jsonable(), sort_keys=True, width=100)


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/asyncapi.yaml")
    target.write_text(build_document())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
