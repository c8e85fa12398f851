"""SDK clients per (provider, endpoint, key), kept so their connection pools are reused."""

import hashlib
from collections import OrderedDict

import anthropic
import httpx2
import openai

from assistant_schemas.catalog import ProviderInfo
from generation_service.providers.anthropic_messages import AnthropicMessages
from generation_service.providers.base import ChatProvider
from generation_service.providers.guarded_transport import GuardedTransport
from generation_service.providers.mock import MockProvider
from generation_service.providers.openai_chat import OpenAIChat
from generation_service.settings import GenerationSettings

MAX_CLIENTS = 256
NO_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key; the SDK wants one


class ProviderClients:
    def __init__(self, settings: GenerationSettings) -> None:
        self._settings = settings
        self._clients: OrderedDict[tuple[str, str | None, str], ChatProvider] = OrderedDict()
        self._mock = MockProvider(settings.mock_token_delay_ms / 1000)
        self._policy = settings.outbound_policy()

    def client(self, provider: ProviderInfo, api_key: str | None) -> ChatProvider:
        if provider.api_style == "mock":
            return self._mock
        base_url = str(provider.base_url) if provider.base_url else None
        cache_key = (provider.name, base_url, hashlib.sha256((api_key or "").encode()).hexdigest())
        found = self._clients.get(cache_key)
        if found is None:
            found = self._build(provider, base_url, api_key or NO_KEY)
            self._clients[cache_key] = found
            if len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        self._clients.move_to_end(cache_key)
        return found

    def _build(self, provider: ProviderInfo, base_url: str | None, api_key: str) -> ChatProvider:
        settings = self._settings
        total, connect = settings.total_timeout_s, settings.connect_timeout_s
        if provider.api_style == "anthropic":
            return AnthropicMessages(
                anthropic.AsyncAnthropic(
                    api_key=api_key,
                    base_url=base_url,
                    max_retries=settings.provider_retries,
                    timeout=anthropic.Timeout(total, connect=connect),
                    http_client=self._http_client(),
                )
            )
        return OpenAIChat(
            openai.AsyncOpenAI(
                api_key=api_key,
                base_url=base_url,
                max_retries=settings.provider_retries,
                timeout=openai.Timeout(total, connect=connect),
                http_client=self._http_client(),
            )
        )

    def _http_client(self) -> httpx2.AsyncClient:
        """Every connection checked against the outbound address policy (a user can set the
        base URL); redirects are not followed, so none can lead past the check either."""
        return httpx2.AsyncClient(transport=GuardedTransport(self._policy), follow_redirects=False)
