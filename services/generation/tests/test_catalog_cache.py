"""The catalogue cache under concurrent requests: an invalidation while a request reads the
catalogue (an administrator's change, committed meanwhile) neither fails that request nor
leaves its possibly older snapshot cached."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from generation_service import catalog
from generation_service.catalog import Catalog, CatalogCache


class Reads:
    """Stands in for the database: each read returns the next snapshot once released."""

    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()

    async def load(self, _session: object) -> Catalog:
        self.count += 1
        snapshot = Catalog(providers={}, models={})
        await self.release.wait()
        return snapshot


@contextlib.asynccontextmanager
async def no_session() -> AsyncIterator[Any]:
    yield None


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    found = Reads()
    monkeypatch.setattr(catalog, "load", found.load)
    return found


def cache() -> CatalogCache:
    return CatalogCache(cast(async_sessionmaker[AsyncSession], no_session), ttl_s=60)


async def test_a_read_overlapping_an_invalidation_is_returned_but_not_kept(reads: Reads) -> None:
    cached = cache()
    reading = asyncio.create_task(cached.get())
    await asyncio.sleep(0)
    cached.invalidate()  # an administrator changed the catalogue during the read
    reads.release.set()
    assert isinstance(await reading, Catalog)
    await cached.get()
    assert reads.count == 2  # the overlapping read was not kept: the next request read again


async def test_a_read_is_kept_for_its_time_to_live(reads: Reads) -> None:
    cached = cache()
    reads.release.set()
    first = await cached.get()
    assert await cached.get() is first
    assert reads.count == 1
