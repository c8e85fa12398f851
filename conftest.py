# Fixtures of services' tests live in named plugin modules, so no two conftest.py share a name.
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_db import create_engine

pytest_plugins = ["gateway_fixtures"]


@pytest.fixture
async def connection() -> AsyncIterator[AsyncConnection]:
    """A connection to the test stack's PostgreSQL inside a transaction rolled back after the
    test, so tests never see each other's rows."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.fail("this test needs the local stack's PostgreSQL: run it with `make test`")
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield connection
        await outer.rollback()
    await engine.dispose()
