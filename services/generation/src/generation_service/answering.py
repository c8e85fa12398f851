"""Answering one request: the provider chain with fallbacks, the circuit breaker, timeouts.

Each entry of the chain (the requested model, then its fallbacks) is tried in turn while the
failure is one another provider may not share (429, 5xx, timeouts, an open circuit) and no
token has been streamed yet; the SDKs themselves retry each call before its first token,
honouring `Retry-After`. Once a token has reached the caller the answer cannot change
provider: a failure then ends the request.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from assistant_runtime.outbound import OutboundRefused
from assistant_schemas.catalog import ModelInfo, ProviderInfo
from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import ChatMessage, GenerationParameters
from assistant_schemas.token_estimate import estimate_prompt_tokens, estimate_tokens
from generation_service.catalog import Catalog
from generation_service.circuit_breaker import CircuitBreaker
from generation_service.context_window import fit_history
from generation_service.providers.base import Delta, ProviderCall, ProviderError
from generation_service.providers.clients import ProviderClients
from generation_service.settings import GenerationSettings

log = structlog.get_logger(__name__)

# (API key, base URL override) for a provider
KeyLookup = Callable[[ProviderInfo], Awaitable[tuple[str | None, str | None]]]
DeltaSink = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Prompt:
    history: list[ChatMessage]
    turn: list[ChatMessage]
    system_prompt: str | None
    parameters: GenerationParameters


@dataclass(frozen=True)
class BilledCall:
    """A provider call that consumed tokens: one `usage.recorded` each."""

    provider: str
    model: str
    usage: TokenUsage
    latency_ms: float
    ttft_ms: float | None


@dataclass
class Progress:
    """How far the answer got; read when the call is cancelled half way."""

    provider: str
    model: str
    started: float
    input_estimate: int = 0
    pieces: list[str] = field(default_factory=list)
    ttft_ms: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def elapsed_ms(self) -> float:
        return (asyncio.get_running_loop().time() - self.started) * 1000

    def billed_so_far(self) -> BilledCall | None:
        """The estimated usage of an interrupted call, if the provider had started answering."""
        if not self.pieces:
            return None
        usage = TokenUsage(
            input_tokens=self.input_estimate, output_tokens=estimate_tokens(self.text)
        )
        return BilledCall(self.provider, self.model, usage, self.elapsed_ms(), self.ttft_ms)


@dataclass
class Answer:
    provider: str
    model: str
    text: str = ""
    finish_reason: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    billed: list[BilledCall] = field(default_factory=list)
    error: ProviderError | None = None
    fallbacks_used: list[str] = field(default_factory=list)


class Answerer:
    def __init__(
        self, settings: GenerationSettings, clients: ProviderClients, breaker: CircuitBreaker
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._breaker = breaker
        self._outbound = settings.outbound_policy()

    async def answer(
        self,
        chain: list[tuple[str, str]],
        prompt: Prompt,
        catalog: Catalog,
        key_for: KeyLookup,
        on_delta: DeltaSink,
        progress: Progress,
    ) -> Answer:
        answer = Answer(*chain[0])
        for position, (provider_name, model_name) in enumerate(chain):
            progress.provider, progress.model = provider_name, model_name
            if position:
                answer.fallbacks_used.append(f"{provider_name}/{model_name}")
            try:
                await self._attempt(
                    provider_name, model_name, prompt, catalog, key_for, on_delta, progress, answer
                )
                return answer
            except ProviderError as error:
                answer.provider, answer.model, answer.error = provider_name, model_name, error
                billed = progress.billed_so_far()
                if billed is not None:
                    answer.billed.append(billed)
                    return answer  # tokens reached the caller: no other provider now
                if not error.falls_back:
                    return answer
                log.warning(
                    "provider failed; trying the next in the chain",
                    provider=provider_name,
                    model=model_name,
                    error_class=error.error_class,
                )
        return answer

    async def _attempt(
        self,
        provider_name: str,
        model_name: str,
        prompt: Prompt,
        catalog: Catalog,
        key_for: KeyLookup,
        on_delta: DeltaSink,
        progress: Progress,
        answer: Answer,
    ) -> None:
        provider, model = _resolve(catalog, provider_name, model_name)
        key, base_url = await key_for(provider)
        if base_url:
            provider = provider.model_copy(update={"base_url": base_url})
        if provider.requires_key and not key:
            raise ProviderError(
                "missing_key",
                f"no API key for {provider_name}: set yours with PUT /v1/credentials/"
                f"{provider_name}, or an operator sets GENERATION_{provider_name.upper()}_API_KEY",
                retryable=False,
            )
        await self._check_address(provider)
        # One circuit per endpoint and key: a user's failing server or key pauses only itself.
        circuit = endpoint_of(provider, key)
        if not self._breaker.allows(circuit):
            raise ProviderError(
                "circuit_open",
                f"{provider_name} failed repeatedly; calls pause for "
                f"{self._settings.breaker_cooldown_s:g}s",
                retryable=True,
            )
        call = _call(model, prompt)
        loop = asyncio.get_running_loop()
        progress.started = loop.time()
        progress.input_estimate = estimate_prompt_tokens(
            (m.content for m in call.messages), call.system_prompt
        )
        progress.pieces.clear()
        progress.ttft_ms = None
        settings = self._settings
        try:
            async with asyncio.timeout(settings.first_token_timeout_s) as deadline:
                async for item in self._clients.client(provider, key).stream(call):
                    if isinstance(item, Delta):
                        if progress.ttft_ms is None:
                            progress.ttft_ms = progress.elapsed_ms()
                            deadline.reschedule(progress.started + settings.total_timeout_s)
                        # PostgreSQL text cannot hold NUL: a model's would fail the answer's
                        # storage on every attempt, each attempt calling (and paying) again.
                        text = item.text.replace("\x00", "\ufffd")
                        progress.pieces.append(text)
                        await on_delta(text)
                    else:
                        answer.finish_reason = item.finish_reason
                        answer.usage = item.usage or TokenUsage(
                            input_tokens=progress.input_estimate,
                            output_tokens=estimate_tokens(progress.text),
                        )
        except TimeoutError:
            self._breaker.failed(circuit)
            waited = "first token" if progress.ttft_ms is None else "whole answer"
            raise ProviderError(
                "timeout", f"{provider_name} timed out waiting for the {waited}", retryable=True
            ) from None
        except ProviderError as error:
            if error.falls_back:
                self._breaker.failed(circuit)
            raise
        self._breaker.succeeded(circuit)
        answer.provider, answer.model, answer.error = provider_name, model_name, None
        answer.text = progress.text
        answer.latency_ms = progress.elapsed_ms()
        answer.ttft_ms = progress.ttft_ms
        answer.billed.append(
            BilledCall(provider_name, model_name, answer.usage, answer.latency_ms, answer.ttft_ms)
        )

    async def _check_address(self, provider: ProviderInfo) -> None:
        """A base URL (the catalogue's, or the user's own) only to an address the outbound
        policy allows; the transport checks each connection again."""
        if provider.api_style == "mock" or provider.base_url is None:
            return
        try:
            await self._outbound.check_url(str(provider.base_url))
        except OutboundRefused as refused:
            raise ProviderError(
                "address_not_allowed", f"{provider.name}: {refused}", retryable=False
            ) from None


def endpoint_of(provider: ProviderInfo, key: str | None) -> str:
    """A provider's endpoint and the key used on it, as the circuit breaker tells them apart."""
    digest = hashlib.sha256((key or "").encode()).hexdigest()[:16]
    return f"{provider.name} {provider.base_url or ''} {digest}"


def _resolve(
    catalog: Catalog, provider_name: str, model_name: str
) -> tuple[ProviderInfo, ModelInfo]:
    provider = catalog.provider(provider_name)
    model = catalog.model(provider_name, model_name)
    if provider is None or not provider.enabled or model is None or not model.enabled:
        raise ProviderError(
            "unknown_model",
            f"{provider_name}/{model_name} is not in the catalogue or is disabled",
            retryable=False,
        )
    return provider, model


def _call(model: ModelInfo, prompt: Prompt) -> ProviderCall:
    max_tokens = model.answer_tokens(prompt.parameters.max_tokens)
    turn = estimate_prompt_tokens((m.content for m in prompt.turn), prompt.system_prompt)
    if turn + max_tokens > model.context_window:
        raise ProviderError(
            "context_length_exceeded",
            f"the prompt (about {turn} tokens) plus max_tokens {max_tokens} exceeds "
            f"{model.model}'s context window of {model.context_window}",
            retryable=False,
        )
    messages = fit_history(
        prompt.history,
        prompt.turn,
        prompt.system_prompt,
        context_window=model.context_window,
        reserved_for_answer=max_tokens,
    )
    return ProviderCall(
        model=model.model,
        messages=messages,
        system_prompt=prompt.system_prompt,
        parameters=prompt.parameters,
        max_tokens=max_tokens,
    )
