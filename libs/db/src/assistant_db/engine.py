"""Async SQLAlchemy 2 engine and session factory over asyncpg."""

from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def sqlalchemy_url(database_url: str) -> str:
    """`postgresql://…` (what operators set) → the asyncpg dialect SQLAlchemy needs."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq-style DSN asyncpg's own connect() takes."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def create_engine(
    database_url: str, *, pool_size: int = 10, max_overflow: int | None = None, echo: bool = False
) -> AsyncEngine:
    """`max_overflow`: connections opened beyond `pool_size` under load, each closed again when
    returned (None: as many as `pool_size`; 0: a busy pool makes callers wait instead)."""
    engine = _create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        echo=echo,
    )
    event.listen(engine.sync_engine, "checkout", _discard_closed_connections)
    return engine


def _discard_closed_connections(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """A pessimistic check without a round trip: SQLAlchemy's pre-ping (`SELECT 1` on every
    checkout) cost half of a cheap request's database time. After a server restart asyncpg has
    already seen its socket close, so a local check is enough for the pool to replace it."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def driver_connection(session: AsyncSession | AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under `session` (or a Core connection), for constant hot-path
    SQL sent without SQLAlchemy's statement layer (which costs several times the database's
    own work for a one-row lookup). A statement sent on it joins the session's transaction if
    one has begun — SQLAlchemy's asyncpg dialect sends `BEGIN` with its first statement — and
    otherwise commits on its own."""
    connection = session if isinstance(session, AsyncConnection) else await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    return driver
