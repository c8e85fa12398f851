# Fixtures of services' tests live in named plugin modules, so no two conftest.py share a name.
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_db import create_engine
from assistant_db.metadata import service_metadata
from assistant_messaging.tables import MessagingTables, add_messaging_tables

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


@pytest.fixture
async def scratch_messaging_tables(connection: AsyncConnection) -> MessagingTables:
    """An outbox and an inbox in a schema of their own, gone with the test's transaction."""
    schema = f"messaging_test_{uuid.uuid4().hex[:8]}"
    tables = add_messaging_tables(service_metadata(schema))
    await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await connection.run_sync(tables.outbox.metadata.create_all)
    return tables
