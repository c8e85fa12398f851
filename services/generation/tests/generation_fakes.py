"""In-memory stand-ins for what the generation worker talks to: its two statements, the reply
topic, the catalogue, and providers that answer as each test scripts them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from assistant_messaging.kafka import headers as h
from assistant_messaging.request_reply.responder import Responder
from assistant_schemas import Envelope, new_event
from assistant_schemas.catalog import ModelInfo, ProviderInfo
from assistant_schemas.generation import (
    ChatMessage,
    GenerationRequestedPayload,
    GenerationRequestedV1,
)
from generation_service.answering import Answerer
from generation_service.catalog import Catalog
from generation_service.circuit_breaker import CircuitBreaker
from generation_service.job_store import Claim, Claimed, Conclusion, StoredCredential
from generation_service.providers.base import Delta, Finished, ProviderCall, ProviderError
from generation_service.providers.clients import ProviderClients
from generation_service.settings import GenerationSettings
from generation_service.worker import GenerationWorker

WAITING = {h.REPLY_TOPIC: "gateway.replies", h.REPLY_PARTITION: "0"}  # a gateway waits


@dataclass
class FakeJobStore:
    """The claim answers what a test set; conclusions are kept, owned unless told otherwise."""

    claimed: Claimed = field(
        default_factory=lambda: Claimed(Claim.NEW, owner=None, history=[], credentials={})
    )
    owned: bool = True
    concluded: list[Conclusion] = field(default_factory=list)

    async def claim(self, **_: Any) -> Claimed:
        return self.claimed

    async def conclude(self, _worker: str, outcome: Conclusion) -> bool:
        self.concluded.append(outcome)
        return self.owned


@dataclass
class SentReplies:
    sent: list[Envelope[Any]] = field(default_factory=list)

    async def reply(self, _headers: Mapping[str, str], _to: str, event: Envelope[Any]) -> None:
        self.sent.append(event)


Script = list[str | ProviderError]  # deltas, and where a failure is raised


@dataclass
class ScriptedProviders:
    """Each model answers its script: its deltas in order, raising a `ProviderError` where the
    script has one. Every call is kept."""

    scripts: dict[str, Script]
    calls: list[ProviderCall] = field(default_factory=list)

    def client(self, provider: ProviderInfo, api_key: str | None) -> ScriptedProviders:
        return self

    async def stream(self, call: ProviderCall) -> AsyncIterator[Delta | Finished]:
        self.calls.append(call)
        for step in self.scripts[call.model]:
            if isinstance(step, ProviderError):
                raise step
            yield Delta(step)
        yield Finished("stop", None)


@dataclass
class FixedCatalog:
    catalog: Catalog

    async def get(self) -> Catalog:
        return self.catalog


def catalog(*models: tuple[str, str, int]) -> Catalog:
    """Mock-style providers (no key, no address check) with (provider, model, window)."""
    providers = {
        name: ProviderInfo(name=name, label=name, api_style="mock", requires_key=False)
        for name, _, _ in models
    }
    return Catalog(
        providers,
        {
            (provider, model): ModelInfo(
                provider=provider,
                model=model,
                context_window=window,
                max_output_tokens=256,
                input_price=1,
                output_price=2,
            )
            for provider, model, window in models
        },
    )


def worker(
    store: FakeJobStore,
    providers: ScriptedProviders,
    known: Catalog,
    replies: SentReplies | None = None,
    settings: GenerationSettings | None = None,
) -> GenerationWorker:
    settings = settings or GenerationSettings()
    return GenerationWorker(
        settings=settings,
        sessions=cast(Any, None),  # only the heartbeat and abandoning use it
        jobs=cast(Any, store),
        outbox=cast(Any, None),
        responder=cast(Responder, replies or SentReplies()),
        answerer=Answerer(
            settings,
            cast(ProviderClients, providers),
            CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s),
        ),
        catalog=cast(Any, FixedCatalog(known)),
        retriever=cast(Any, None),
        worker_id="generation-test",
    )


def requested(
    prompt: str,
    *,
    provider: str = "p",
    model: str = "m",
    fallbacks: list[tuple[str, str]] | None = None,
    stream: bool = False,
    conversation_id: uuid.UUID | None = None,
) -> GenerationRequestedV1:
    payload = GenerationRequestedPayload(
        request_id=uuid.uuid4(),
        conversation_id=conversation_id,
        provider=provider,
        model=model,
        messages=[ChatMessage(role="user", content=prompt)],
        fallbacks=fallbacks or [],
        stream=stream,
    )
    return new_event(
        GenerationRequestedV1, payload, correlation_id="c", producer="test", user_id=uuid.uuid4()
    )


def key(ciphertext: str) -> StoredCredential:
    return StoredCredential(ciphertext, None)
