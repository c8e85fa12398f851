"""The model catalogue: read as a snapshot, changed by administrators through the gateway."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant_schemas.catalog import CatalogResultPayload, ModelInfo, ProviderInfo
from generation_service.models import ai_models, ai_providers, catalog_version


@dataclass(frozen=True)
class Catalog:
    providers: dict[str, ProviderInfo]
    models: dict[tuple[str, str], ModelInfo]

    def provider(self, name: str) -> ProviderInfo | None:
        return self.providers.get(name)

    def model(self, provider: str, model: str) -> ModelInfo | None:
        return self.models.get((provider, model))

    def payload(self, version: int) -> CatalogResultPayload:
        return CatalogResultPayload(
            providers=list(self.providers.values()),
            models=list(self.models.values()),
            version=version,
        )


class CatalogCache:
    """The catalogue as last read, for `ttl_s`: a request needs it, an admin rarely changes it.

    Many requests read it concurrently. Each returns the snapshot it found or read itself (never
    `self._loaded` after an await, which an invalidation may have cleared meanwhile), and a read
    that overlapped an invalidation is not kept: it may predate the change."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl = ttl_s
        self._loaded: tuple[float, Catalog] | None = None
        self._changes = 0  # invalidations so far

    async def get(self) -> Catalog:
        loaded, now = self._loaded, time.monotonic()
        if loaded is not None and now - loaded[0] <= self._ttl:
            return loaded[1]
        changes = self._changes
        async with self._sessions() as session:
            catalog = await load(session)
        if self._changes == changes:
            self._loaded = (now, catalog)
        return catalog

    def invalidate(self) -> None:
        self._changes += 1
        self._loaded = None


async def load(session: AsyncSession) -> Catalog:
    providers = {
        row.name: ProviderInfo(
            name=row.name,
            label=row.label,
            api_style=row.api_style,
            base_url=row.base_url,
            requires_key=row.requires_key,
            enabled=row.enabled,
        )
        for row in await session.execute(select(ai_providers).order_by(ai_providers.c.name))
    }
    models = {
        (row.provider, row.model): ModelInfo(
            provider=row.provider,
            model=row.model,
            context_window=row.context_window,
            max_output_tokens=row.max_output_tokens,
            input_price=row.input_price,
            output_price=row.output_price,
            cached_input_price=row.cached_input_price,
            enabled=row.enabled,
        )
        for row in await session.execute(
            select(ai_models).order_by(ai_models.c.provider, ai_models.c.model)
        )
    }
    return Catalog(providers, models)


async def has_provider(session: AsyncSession, name: str) -> bool:
    found = await session.scalar(select(ai_providers.c.name).where(ai_providers.c.name == name))
    return found is not None


async def put_provider(session: AsyncSession, provider: ProviderInfo) -> None:
    values = provider.model_dump(mode="json")
    statement = insert(ai_providers).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={**values, "updated_at": func.now()}
        )
    )


async def put_model(session: AsyncSession, model: ModelInfo) -> None:
    values = model.model_dump()
    statement = insert(ai_models).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["provider", "model"], set_={**values, "updated_at": func.now()}
        )
    )


async def next_version(session: AsyncSession) -> int:
    """A new version for the catalogue as this transaction leaves it. The row stays locked
    until the transaction ends, so a concurrent change waits and then reads this one's."""
    statement = update(catalog_version).values(version=catalog_version.c.version + 1)
    version: int = (
        await session.execute(statement.returning(catalog_version.c.version))
    ).scalar_one()
    return version


async def current_version(session: AsyncSession) -> int:
    version: int = (await session.execute(select(catalog_version.c.version))).scalar_one()
    return version
