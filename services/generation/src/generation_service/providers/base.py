"""What every provider adapter takes and yields, and how its failures are named."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import ChatMessage, GenerationParameters


@dataclass(frozen=True)
class ProviderCall:
    model: str
    messages: list[ChatMessage]
    system_prompt: str | None
    parameters: GenerationParameters
    max_tokens: int  # always set: Anthropic requires it, the catalogue bounds it


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    finish_reason: str | None
    usage: TokenUsage | None  # None when the provider reported none


StreamItem = Delta | Finished


class ChatProvider(Protocol):
    def stream(self, call: ProviderCall) -> AsyncIterator[StreamItem]:
        """Yields deltas, then exactly one `Finished`; raises `ProviderError`."""
        ...


# Failures another provider may not share: worth the next one in the fallback chain.
FALLBACK_CLASSES = frozenset(
    {"rate_limited", "overloaded", "server_error", "timeout", "connection", "circuit_open"}
)


class ProviderError(Exception):
    """A provider call that failed, with a stable class name and whether retrying may help."""

    def __init__(self, error_class: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.retryable = retryable

    @property
    def falls_back(self) -> bool:
        return self.error_class in FALLBACK_CLASSES


def status_error_class(status: int) -> tuple[str, bool]:
    """(error class, retryable) of an HTTP status a provider answered with."""
    if status in (401, 403):
        return "authentication", False
    if status == 429:
        return "rate_limited", True
    if status == 529:
        return "overloaded", True
    if status == 408 or status >= 500:
        return "server_error", True
    return "bad_request", False


@contextmanager
def provider_errors(sdk: ModuleType) -> Iterator[None]:
    """Translates an official SDK's exceptions (openai's and anthropic's have the same shape)
    into `ProviderError`."""
    try:
        yield
    except sdk.APIStatusError as error:
        error_class, retryable = status_error_class(error.status_code)
        raise ProviderError(error_class, _status_message(error), retryable=retryable) from error
    except sdk.APITimeoutError as error:
        raise ProviderError("timeout", "the provider timed out", retryable=True) from error
    except sdk.APIConnectionError as error:
        raise ProviderError(
            "connection", "the provider could not be reached", retryable=True
        ) from error


MAX_PROVIDER_MESSAGE = 300


def _status_message(error: Any) -> str:
    """A summary of a provider's error — its status, and the type and message of its JSON
    error body — never the raw body: the base URL may be a user's, and what answers there is
    not for the user to read through us."""
    body = error.body
    detail = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        kind = detail.get("type")
        prefix = f"{error.status_code} {kind}" if isinstance(kind, str) else str(error.status_code)
        return f"{prefix}: {detail['message'][:MAX_PROVIDER_MESSAGE]}"
    return f"{error.status_code}: the provider answered without an error message"
