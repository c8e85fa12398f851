"""Telling generation that a client went away, so the provider call stops.

Sent straight to Kafka rather than through the outbox: a cancellation is only worth anything
in the next seconds, and one lost costs no more than the answer being finished and billed.
"""

import asyncio
import uuid

import structlog
from fastapi import FastAPI

from assistant_messaging.kafka import headers as h
from assistant_messaging.publishing.outbox import envelope_headers
from assistant_runtime.runtime import ServiceRuntime
from assistant_schemas import new_event
from assistant_schemas.generation import (
    GenerationCancelRequestedPayload,
    GenerationCancelRequestedV1,
)
from assistant_schemas.topics import topic_for_event

log = structlog.get_logger(__name__)


async def send_cancel(runtime: ServiceRuntime, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
    event = new_event(
        GenerationCancelRequestedV1,
        GenerationCancelRequestedPayload(request_id=request_id),
        correlation_id=str(request_id),
        producer="gateway",
        user_id=user_id,
    )
    topic = topic_for_event(event)
    try:
        await runtime.producer.send_and_wait(
            topic.name,
            value=event.to_json(),
            key=topic.key_for(event),
            headers=h.to_kafka(envelope_headers(event)),
        )
    except Exception as error:
        log.warning("cancellation not sent", error=repr(error))


def cancel_in_background(app: FastAPI, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
    """Schedules the cancellation; safe to call from a generator being torn down."""
    tasks: set[asyncio.Task[None]] = app.state.background_tasks
    task = asyncio.create_task(send_cancel(app.state.runtime, user_id, request_id))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
