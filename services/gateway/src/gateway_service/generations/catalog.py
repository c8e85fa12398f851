"""The model catalogue as the gateway sees it: asked of generation, kept for a few seconds."""

import time

from assistant_messaging.request_reply import Requester
from assistant_schemas import new_event
from assistant_schemas.catalog import (
    CatalogQueryPayload,
    CatalogQueryV1,
    CatalogResultPayload,
    CatalogResultV1,
    ModelInfo,
    ProviderInfo,
)
from gateway_service.http.queries import ask


class CatalogView:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._loaded: tuple[float, CatalogResultPayload] | None = None

    async def current(self, replies: Requester) -> CatalogResultPayload:
        now = time.monotonic()
        if self._loaded is None or now - self._loaded[0] > self.ttl_s:
            answer = await self.change(replies, CatalogQueryPayload(action="list"), "catalog")
            self._loaded = (now, answer)
        return self._loaded[1]

    async def change(
        self, replies: Requester, payload: CatalogQueryPayload, correlation_id: str
    ) -> CatalogResultPayload:
        query = new_event(
            CatalogQueryV1, payload, correlation_id=correlation_id, producer="gateway"
        )
        result = (await ask(replies, query, CatalogResultV1)).payload
        self._loaded = (time.monotonic(), result)
        return result


def find_model(
    catalog: CatalogResultPayload, provider: str, model: str
) -> tuple[ProviderInfo, ModelInfo] | None:
    for candidate in catalog.models:
        if candidate.provider == provider and candidate.model == model and candidate.enabled:
            for owner in catalog.providers:
                if owner.name == provider and owner.enabled:
                    return owner, candidate
    return None


def resolve_name(catalog: CatalogResultPayload, name: str) -> tuple[str, str] | None:
    """`provider/model`, or a bare model name that only one provider serves."""
    if "/" in name:
        provider, _, model = name.partition("/")
        if find_model(catalog, provider, model):
            return provider, model
    matches = [(m.provider, m.model) for m in catalog.models if m.model == name and m.enabled]
    return matches[0] if len(matches) == 1 else None
