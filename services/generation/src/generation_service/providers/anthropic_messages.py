"""Anthropic's Messages API: system prompt apart, `max_tokens` required, streamed events."""

from collections.abc import AsyncIterator
from typing import Any

import anthropic
from anthropic import AsyncAnthropic

from assistant_schemas.common import TokenUsage
from generation_service.providers import sse
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
        stop_reason: str | None = None
        usage: dict[str, Any] = {}
        with provider_errors(anthropic):
            async with self._client.messages.with_streaming_response.create(
                model=call.model,
                max_tokens=call.max_tokens,
                messages=[{"role": m.role, "content": m.content} for m in call.messages],  # type: ignore[misc]
                stream=True,
                **options,
            ) as response:
                async for event in sse.events(response.iter_lines()):
                    kind = event.get("type")
                    if kind == "content_block_delta":
                        text = event["delta"].get("text")
                        if text:
                            yield Delta(text)
                    elif kind == "message_start":
                        usage |= event["message"].get("usage") or {}
                    elif kind == "message_delta":
                        stop_reason = event["delta"].get("stop_reason") or stop_reason
                        usage |= event.get("usage") or {}
        cached = usage.get("cache_read_input_tokens") or 0
        yield Finished(
            stop_reason,
            TokenUsage(
                input_tokens=(usage.get("input_tokens") or 0) + cached,
                output_tokens=usage.get("output_tokens") or 0,
                cached_tokens=cached,
            ),
        )
