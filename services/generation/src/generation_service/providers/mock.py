"""The `mock` provider: a deterministic answer, streamed word by word, with realistic usage.

For demos and load tests on a machine with no API keys. Its answers say they are mock answers;
its catalogue entry costs nothing.
"""

import asyncio
from collections.abc import AsyncIterator

from assistant_schemas.common import TokenUsage
from assistant_schemas.token_estimate import estimate_prompt_tokens, estimate_tokens
from generation_service.providers.base import Delta, Finished, ProviderCall, StreamItem

FILLER = " ".join(
    [
        "Notion Assistant streams this text through Kafka exactly as it would stream a real",
        "model's answer, so you can try every endpoint without an API key.",
    ]
).split()
ANSWER_WORDS = 40


def mock_answer(call: ProviderCall) -> list[str]:
    """The words of the answer: an echo of the prompt's start, then filler."""
    prompt = " ".join(call.messages[-1].content.split()[:12])
    words = ["(mock", "answer)", "You", "asked:", f"“{prompt}”."]
    while len(words) < ANSWER_WORDS:
        words.extend(FILLER)
    return words[: min(ANSWER_WORDS, max(1, call.max_tokens))]


class MockProvider:
    def __init__(self, token_delay_s: float) -> None:
        self._delay = token_delay_s

    async def stream(self, call: ProviderCall) -> AsyncIterator[StreamItem]:
        words = mock_answer(call)
        for index, word in enumerate(words):
            if self._delay:
                await asyncio.sleep(self._delay)
            yield Delta(word if index == 0 else " " + word)
        prompt = estimate_prompt_tokens((m.content for m in call.messages), call.system_prompt)
        output = estimate_tokens(" ".join(words))
        finish = "length" if len(words) < ANSWER_WORDS else "stop"
        yield Finished(finish, TokenUsage(input_tokens=prompt, output_tokens=output))
