"""Waiting for a generation's replies, and what its failure means over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

from assistant_messaging.request_reply.requester import ReplyStream, ReplyTimeout
from assistant_schemas import new_event
from assistant_schemas.generation import (
    GenerationChunkPayload,
    GenerationChunkV1,
    GenerationCompletedV1,
    GenerationFailedPayload,
    GenerationFailedV1,
)
from gateway_service.http.problems import Problem

FIRST_REPLY_TIMEOUT_S = 90.0  # the generation service gives up on a first token after 60s
IDLE_TIMEOUT_S = 60.0

Reply = GenerationChunkV1 | GenerationCompletedV1 | GenerationFailedV1

# error class → (HTTP status, problem kind)
STATUSES = {
    "conversation_not_found": (404, "not-found"),
    "unknown_model": (422, "validation-error"),
    "context_length_exceeded": (422, "validation-error"),
    "bad_request": (422, "provider-rejected-request"),
    "missing_key": (400, "missing-provider-key"),
    "authentication": (502, "provider-rejected-key"),
    "rate_limited": (503, "provider-unavailable"),
    "overloaded": (503, "provider-unavailable"),
    "circuit_open": (503, "provider-unavailable"),
    "server_error": (502, "provider-error"),
    "connection": (502, "provider-error"),
    "timeout": (504, "provider-timeout"),
}


class StreamBroken(Exception):
    pass


async def replies(
    stream: ReplyStream, *, first_timeout: float = FIRST_REPLY_TIMEOUT_S
) -> AsyncIterator[Reply]:
    """Chunks in sequence order, then the outcome; raises `ReplyTimeout` if the generation
    goes silent and `StreamBroken` if a chunk went missing. The text a completed answer has
    beyond its chunks (generation does not send its last window as a chunk) comes as one more
    chunk before the outcome."""
    expected = 0
    streamed: list[str] = []
    timeout = first_timeout
    while True:
        event = await stream.next(timeout)
        if isinstance(event, GenerationChunkV1):
            sequence = event.payload.sequence
            if sequence < expected:
                continue  # a duplicate delivery
            if sequence > expected:
                raise StreamBroken(f"chunk {expected} never arrived")
            expected += 1
            timeout = IDLE_TIMEOUT_S
            streamed.append(event.payload.delta)
            yield event
        elif isinstance(event, GenerationCompletedV1 | GenerationFailedV1):
            if isinstance(event, GenerationCompletedV1):
                rest = _rest(event, "".join(streamed), expected)
                if rest is not None:
                    yield rest
            yield event
            return


def _rest(
    completed: GenerationCompletedV1, streamed: str, sequence: int
) -> GenerationChunkV1 | None:
    """The answer's text after what was streamed, as the next chunk (None if nothing is left,
    or if the answer does not continue what was streamed)."""
    content = completed.payload.content
    if len(content) <= len(streamed) or not content.startswith(streamed):
        return None
    return new_event(
        GenerationChunkV1,
        GenerationChunkPayload(
            request_id=completed.payload.request_id,
            sequence=sequence,
            delta=content[len(streamed) :],
        ),
        correlation_id=completed.correlation_id,
        producer="gateway",
        user_id=completed.user_id,
    )


def failure_problem(failure: GenerationFailedPayload) -> Problem:
    status, kind = STATUSES.get(failure.error_class, (502, "generation-failed"))
    return Problem(
        status,
        kind,
        "Generation failed",
        failure.message,
        error_class=failure.error_class,
        retryable=failure.retryable,
        request_id=str(failure.request_id),
    )


def silence_problem(error: ReplyTimeout | StreamBroken) -> Problem:
    return Problem(
        504 if isinstance(error, ReplyTimeout) else 502,
        "generation-interrupted",
        "Generation interrupted",
        f"{error}; the request's status URL tells whether it finished",
        retryable=True,
    )
