"""Chunk replies: the first delta at once, then windows that grow; the last window of a
completed answer is left to the final reply."""

import uuid
from collections.abc import Mapping
from typing import Any, cast

from assistant_messaging.request_reply.responder import Responder
from assistant_schemas import Envelope
from generation_service.reply_stream import ChunkStream, window_after


class SentReplies:
    """Stands in for the responder: keeps what would have gone to Kafka."""

    def __init__(self) -> None:
        self.sent: list[Envelope[Any]] = []

    async def reply(self, _headers: Mapping[str, str], _to: str, event: Envelope[Any]) -> None:
        self.sent.append(event)


def stream(replies: SentReplies) -> ChunkStream:
    return ChunkStream(
        cast(Responder, replies),
        {},
        "request-event",
        uuid.uuid4(),
        "correlation",
        None,
        first_window_s=3600,  # nothing goes by time in these tests
        longest_window_s=3600,
    )


def test_windows_start_at_the_first_and_double_up_to_the_longest() -> None:
    windows = [window_after(sends, 0.05, 0.25) for sends in range(1, 7)]
    assert windows == [0.05, 0.1, 0.2, 0.25, 0.25, 0.25]
    assert window_after(10_000, 0.05, 0.25) == 0.25  # no overflow on a very long answer


async def test_the_first_delta_goes_at_once_and_later_ones_wait_for_their_window() -> None:
    replies = SentReplies()
    chunks = stream(replies)
    await chunks.delta("Hello")
    await chunks.delta(" wor")
    await chunks.delta("ld")
    assert [e.payload.delta for e in replies.sent] == ["Hello"]
    await chunks.close(completed=False)
    assert [(e.payload.sequence, e.payload.delta) for e in replies.sent] == [
        (0, "Hello"),
        (1, " world"),
    ]


async def test_a_completed_answer_leaves_its_last_window_to_the_final_reply() -> None:
    replies = SentReplies()
    chunks = stream(replies)
    await chunks.delta("Hello")
    await chunks.delta(" world")
    await chunks.close(completed=True)
    assert [e.payload.delta for e in replies.sent] == ["Hello"]
