"""OpenAI Chat Completions (and every server speaking it: DeepSeek, Ollama, vLLM, LM Studio)."""

from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from assistant_schemas.common import TokenUsage
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
        with provider_errors(openai):
            chunks = await self._client.chat.completions.create(
                model=call.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                **options,
            )
            finish_reason: str | None = None
            usage: TokenUsage | None = None
            async for chunk in chunks:
                for choice in chunk.choices[:1]:
                    if choice.delta.content:
                        yield Delta(choice.delta.content)
                    finish_reason = choice.finish_reason or finish_reason
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
        yield Finished(finish_reason, usage)


def _usage(usage: Any) -> TokenUsage:
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    return TokenUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cached_tokens=getattr(prompt_details, "cached_tokens", None) or 0,
        reasoning_tokens=getattr(completion_details, "reasoning_tokens", None) or 0,
    )
