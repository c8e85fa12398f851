"""A provider's streamed answer read straight from the response: one JSON decode per event.

The official SDKs still make the request, authenticate, retry, and turn an error status into
their exceptions; only the stream's body is read here, because the SDKs build a pydantic
object per chunk — about 4 ms of CPU per 16-token answer, more than everything else generation
does for it. An error sent in the stream (OpenAI's `{"error": ...}` chunk, Anthropic's `error`
event) becomes a `ProviderError`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from generation_service.providers.base import MAX_PROVIDER_MESSAGE, ProviderError


async def events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The data of each event, decoded; ends at OpenAI's `[DONE]` or the end of the body."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif not line and data:  # a blank line ends an event
            text, data = "\n".join(data), []
            if text == "[DONE]":
                return
            yield checked(json.loads(text))
    if data and data != ["[DONE]"]:
        yield checked(json.loads("\n".join(data)))


def checked(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProviderError("server_error", "the provider streamed a non-object", retryable=True)
    error = data.get("error")
    if isinstance(error, dict):
        kind = str(error.get("type") or "")
        message = str(error.get("message") or "the provider failed mid-stream")
        error_class = (
            "overloaded"
            if "overloaded" in kind
            else "rate_limited"
            if "rate" in kind
            else "server_error"
        )
        raise ProviderError(error_class, message[:MAX_PROVIDER_MESSAGE], retryable=True)
    return data


def _error_class(kind: str) -> str:
    """Ours, for the type a provider gave its error (`overloaded_error`, `rate_limit_error`)."""
    if "overloaded" in kind:
        return "overloaded"
    if "rate_limit" in kind:
        return "rate_limited"
    return "server_error"
