"""The replies a waiting request reads: chunks in order, then what a completed answer has
beyond them as one more chunk, then the outcome."""

import uuid
from typing import Any, cast

from assistant_messaging.request_reply.requester import ReplyStream, Requester
from assistant_schemas import Envelope, new_event
from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import (
    GenerationChunkPayload,
    GenerationChunkV1,
    GenerationCompletedPayload,
    GenerationCompletedV1,
)
from gateway_service.generations.outcomes import replies

REQUEST = uuid.uuid4()


def chunk(sequence: int, delta: str) -> GenerationChunkV1:
    payload = GenerationChunkPayload(request_id=REQUEST, sequence=sequence, delta=delta)
    return new_event(GenerationChunkV1, payload, correlation_id="c", producer="generation")


def completed(content: str) -> GenerationCompletedV1:
    payload = GenerationCompletedPayload(
        request_id=REQUEST,
        conversation_id=REQUEST,
        message_id=uuid.uuid4(),
        provider="mock",
        model="mock-1",
        content=content,
        usage=TokenUsage(),
        latency_ms=1,
    )
    return new_event(GenerationCompletedV1, payload, correlation_id="c", producer="generation")


async def read(*sent: Envelope[Any]) -> list[tuple[str, Any]]:
    stream = ReplyStream(cast(Requester, None), str(REQUEST))
    for event in sent:
        stream.deliver(event.to_json())
    return [
        (event.type, event.payload.delta if isinstance(event, GenerationChunkV1) else None)
        async for event in replies(stream, first_timeout=1)
    ]


async def test_the_text_after_the_last_chunk_comes_as_the_next_chunk() -> None:
    found = await read(chunk(0, "Hello"), completed("Hello world"))
    assert found == [
        ("generation.chunk", "Hello"),
        ("generation.chunk", " world"),
        ("generation.completed", None),
    ]


async def test_an_answer_that_was_all_streamed_adds_no_chunk() -> None:
    found = await read(chunk(0, "Hello"), chunk(1, " world"), completed("Hello world"))
    assert [kind for kind, _ in found] == ["generation.chunk"] * 2 + ["generation.completed"]


async def test_an_answer_that_does_not_continue_the_stream_adds_no_chunk() -> None:
    found = await read(chunk(0, "Hello"), completed("Something else"))
    assert found == [("generation.chunk", "Hello"), ("generation.completed", None)]
