"""Anthropic's Messages API: system prompt apart, `max_tokens` required, streamed events."""

from collections.abc import AsyncIterator
from typing import Any

import anthropic
from anthropic import AsyncAnthropic

from assistant_schemas.common import TokenUsage
from generation_service.providers.base import (
    Delta,
    Finished,
    ProviderCall,
    StreamItem,
    provider_errors,
)


class AnthropicMessages:
    def __init__(self, client: AsyncAnthropic) -> None:
        self._client = client

    async def stream(self, call: ProviderCall) -> AsyncIterator[StreamItem]:
        options: dict[str, Any] = {}
        parameters = call.parameters
        if call.system_prompt:
            options["system"] = call.system_prompt
        if parameters.temperature is not None:
            options["temperature"] = min(parameters.temperature, 1.0)  # Anthropic's range is 0-1
        if parameters.top_p is not None:
            options["top_p"] = parameters.top_p
        if parameters.stop:
            options["stop_sequences"] = parameters.stop
        with provider_errors(anthropic):
            async with self._client.messages.stream(
                model=call.model,
                max_tokens=call.max_tokens,
                messages=[{"role": m.role, "content": m.content} for m in call.messages],  # type: ignore[misc]
                **options,
            ) as stream:
                async for text in stream.text_stream:
                    if text:
                        yield Delta(text)
                final = await stream.get_final_message()
        usage = final.usage
        yield Finished(
            final.stop_reason,
            TokenUsage(
                input_tokens=usage.input_tokens + (usage.cache_read_input_tokens or 0),
                output_tokens=usage.output_tokens,
                cached_tokens=usage.cache_read_input_tokens or 0,
            ),
        )
