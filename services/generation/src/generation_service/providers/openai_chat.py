"""OpenAI Chat Completions (and every server speaking it: DeepSeek, Ollama, vLLM, LM Studio)."""

from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from assistant_schemas.common import TokenUsage
from generation_service.providers import sse
from generation_service.providers.base import (
    Delta,
    Finished,
    ProviderCall,
    StreamItem,
    provider_errors,
)


class OpenAIChat:
    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    async def stream(self, call: ProviderCall) -> AsyncIterator[StreamItem]:
        messages: list[Any] = [{"role": m.role, "content": m.content} for m in call.messages]
        if call.system_prompt:
            messages.insert(0, {"role": "system", "content": call.system_prompt})
        options: dict[str, Any] = {"max_tokens": call.max_tokens}
        parameters = call.parameters
        if parameters.temperature is not None:
            options["temperature"] = parameters.temperature
        if parameters.top_p is not None:
            options["top_p"] = parameters.top_p
        if parameters.stop:
            options["stop"] = parameters.stop
        finish_reason: str | None = None
        usage: TokenUsage | None = None
        with provider_errors(openai):
            async with self._client.chat.completions.with_streaming_response.create(
                model=call.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                **options,
            ) as response:
                async for chunk in sse.events(response.iter_lines()):
                    for choice in (chunk.get("choices") or ())[:1]:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            yield Delta(text)
                        finish_reason = choice.get("finish_reason") or finish_reason
                    if chunk.get("usage"):
                        usage = _usage(chunk["usage"])
        yield Finished(finish_reason, usage)


def _usage(usage: dict[str, Any]) -> TokenUsage:
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return TokenUsage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        cached_tokens=prompt_details.get("cached_tokens") or 0,
        reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
    )
