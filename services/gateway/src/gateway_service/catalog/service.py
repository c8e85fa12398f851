"""The model catalogue as the gateway sees it: its own projection of what generation
announced, kept in memory for a few seconds; changes are asked of generation."""

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from assistant_messaging.request_reply.requester import Requester
from assistant_schemas import new_event
from assistant_schemas.catalog import (
    CatalogQueryPayload,
    CatalogQueryV1,
    CatalogResultPayload,
    CatalogResultV1,
    ModelInfo,
    ProviderInfo,
)
from gateway_service.catalog import repository as catalog_projection
from gateway_service.http.problems import Problem
from gateway_service.http.queries import ask

NOT_ANNOUNCED_RETRY_S = 5


class CatalogView:
    def __init__(self, sessions: Callable[[], AsyncSession], ttl_s: float) -> None:
        self.sessions = sessions
        self.ttl_s = ttl_s
        self._loaded: tuple[float, CatalogResultPayload] | None = None

    async def current(self) -> CatalogResultPayload:
        now = time.monotonic()
        if self._loaded is None or now - self._loaded[0] > self.ttl_s:
            async with self.sessions() as session:
                found = await catalog_projection.latest(session)
            if found is None:
                raise not_announced()
            self._loaded = (now, found)
        return self._loaded[1]

    async def change(
        self, replies: Requester, payload: CatalogQueryPayload, correlation_id: str
    ) -> CatalogResultPayload:
        """Asks generation (to list or change the catalogue); the answer is applied to the
        projection at once, so the next request here sees the change."""
        query = new_event(
            CatalogQueryV1, payload, correlation_id=correlation_id, producer="gateway"
        )
        result = (await ask(replies, query, CatalogResultV1)).payload
        async with self.sessions() as session, session.begin():
            await catalog_projection.record(session, result)
        self._loaded = None
        return result


def not_announced() -> Problem:
    problem = Problem(
        503,
        "catalog-unavailable",
        "The model catalogue has not arrived yet",
        "The generation service has not announced its model catalogue yet: it announces it"
        " when it starts. Try again shortly.",
    )
    problem.headers["Retry-After"] = str(NOT_ANNOUNCED_RETRY_S)
    return problem


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
