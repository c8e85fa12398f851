"""The `mock` provider: a deterministic answer, streamed word by word, with realistic usage.

For demos and load tests on a machine with no API keys. Its answers say they are mock answers;
its catalogue entry costs nothing. It honours what a real model honours: each word is one
token, so `max_tokens` cuts the answer (finish reason `length`), and a `stop` sequence ends it
before the sequence (finish reason `stop`).
"""

import asyncio
from collections.abc import AsyncIterator

from assistant_schemas.common import TokenUsage
from assistant_schemas.token_estimate import estimate_prompt_tokens
from generation_service.providers.base import Delta, Finished, ProviderCall, StreamItem

FILLER = (
    "Notion Assistant streams this text through Kafka exactly as it would stream a real "
    "model's answer, so you can try every endpoint without an API key."
)


def mock_answer(call: ProviderCall) -> str:
    """The whole answer: an echo of the prompt's start, then one sentence of filler."""
    prompt = " ".join(call.messages[-1].content.split()[:12])
    return f"(mock answer) You asked: “{prompt}”. {FILLER}"


def stream_pieces(answer: str, max_tokens: int, stop: list[str]) -> tuple[list[str], str]:
    """The pieces (one token each) sent for `answer`, and why the answer ended."""
    ends = [i for sequence in stop if (i := answer.find(sequence)) >= 0]
    text = answer[: min(ends)] if ends else answer
    first, *rest = text.split(" ")
    pieces = [piece for piece in (first, *(" " + word for word in rest)) if piece]
    if len(pieces) > max_tokens:
        return pieces[:max_tokens], "length"
    return pieces, "stop"


class MockProvider:
    def __init__(self, token_delay_s: float) -> None:
        self._delay = token_delay_s

    async def stream(self, call: ProviderCall) -> AsyncIterator[StreamItem]:
        pieces, finish = stream_pieces(mock_answer(call), call.max_tokens, call.parameters.stop)
        for piece in pieces:
            if self._delay:
                await asyncio.sleep(self._delay)
            yield Delta(piece)
        prompt = estimate_prompt_tokens((m.content for m in call.messages), call.system_prompt)
        yield Finished(finish, TokenUsage(input_tokens=prompt, output_tokens=len(pieces)))
