import asyncio
import uuid
from collections import Counter
from pathlib import Path

import structlog
from sqlalchemy import BigInteger, Column, DateTime, Identity, Integer, Table, Text, func, insert
from sqlalchemy.dialects.postgresql import UUID

from assistant_db import service_metadata
from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_messaging.tables import add_messaging_tables
from assistant_runtime.definition import ServiceDefinition
from assistant_schemas import new_event
from assistant_schemas.topics import Topic, TopicSpec, dead_letter_topic, retry_topic
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1

SCHEMA = "probe"
MIGRATIONS = Path(__file__).parent / "migrations"

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)
applied = Table(
    "applied",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("service", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("applied_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

log = structlog.get_logger("probe")


def probe_topic(name: str, partitions: int = 3) -> Topic:
    return Topic(name, "probe topic", (UsageRecordedV1,), key=("user_id",), partitions=partitions)


def topic_specs(service: str, topic: Topic) -> list[TopicSpec]:
    """The probe's topic and its service's retry and dead-letter companions."""
    hour_ms = 3_600_000
    return [
        TopicSpec(topic.name, topic.partitions, hour_ms),
        TopicSpec(retry_topic(service), 1, hour_ms),
        TopicSpec(dead_letter_topic(service), 1, hour_ms),
    ]


# How many times the handler was called per event id: what an external side effect (an LLM
# call) would have seen, whether or not the database transaction around it committed.
calls: Counter[uuid.UUID] = Counter()


def definition(service: str, topic: Topic, *, external_effects: bool = False) -> ServiceDefinition:
    router = EventRouter(service, [topic])

    @router.handles(UsageRecordedV1, external_effects=external_effects)
    async def apply(event: UsageRecordedV1, context: MessageContext) -> None:
        calls[event.event_id] += 1
        command = event.payload.model
        await context.session.execute(
            insert(applied).values(
                event_id=event.event_id, service=service, attempt=context.attempt
            )
        )
        if command.startswith("sleep:"):
            log.info("probe handling", event_id=str(event.event_id))
            await asyncio.sleep(float(command.split(":", 1)[1]))
        elif command == "poison":
            raise RuntimeError("poison: this event always fails")
        elif command == "fail-first" and context.attempt == 1:
            raise RuntimeError("transient: fails on the first attempt only")

    return ServiceDefinition(router, messaging, MIGRATIONS)


def usage_event(command: str = "ok", user_id: uuid.UUID | None = None) -> UsageRecordedV1:
    return new_event(
        UsageRecordedV1,
        UsageRecordedPayload(
            request_id=uuid.uuid4(),
            usage_type="llm",
            provider="mock",
            model=command,
            input_tokens=10,
            output_tokens=20,
        ),
        correlation_id=f"test-{uuid.uuid4()}",
        producer="tests",
        user_id=user_id or uuid.uuid4(),
    )
