"""The unit of work of one save: what a save reads and records, step by step, each step one
transaction, on one connection that holds the save's lock for its whole run (see `pages`).

`saving` talks only to these protocols; `PostgresSave` is the real one, and the unit tests run
the same saves on an in-memory one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import Envelope
from notion_sync_service import connections, pages
from notion_sync_service.pages import PageRecord


class PageTaken(Exception):
    """The page being recorded is already another request's."""


class SaveStep(Protocol):
    """One transaction of a save: what it reads and writes commits together, or not at all."""

    async def open_for_writing(
        self,
        *,
        request_id: uuid.UUID,
        user_id: uuid.UUID,
        source_request_id: uuid.UUID | None,
        title: str,
        parent_id: str,
    ) -> PageRecord: ...

    async def token_ciphertext(self, user_id: uuid.UUID) -> str | None: ...

    async def find(self, request_id: uuid.UUID) -> PageRecord | None: ...

    async def creating(self, request_id: uuid.UUID) -> None: ...

    async def created(
        self, request_id: uuid.UUID, page_id: str, url: str, appended: int, api_calls: int
    ) -> None:
        """Raises `PageTaken` when another request owns the page."""
        ...

    async def mapped(self, page_ids: list[str]) -> set[str]: ...

    async def appended(self, request_id: uuid.UUID, appends: int, api_calls: int) -> None: ...

    async def paused(self, request_id: uuid.UUID, *, in_doubt: bool, api_calls: int) -> None: ...

    async def synced(self, request_id: uuid.UUID, api_calls: int) -> None: ...

    async def failed(
        self, request_id: uuid.UUID, reason: str, *, retryable: bool, api_calls: int
    ) -> None: ...

    async def take_unreported_calls(self, request_id: uuid.UUID) -> tuple[int, int] | None: ...

    async def publish(self, event: Envelope[Any]) -> None:
        """Stages `event`: it is published only if the step commits."""
        ...


class SaveUnit(Protocol):
    """One save's storage, for its whole run."""

    async def lock(self, request_id: uuid.UUID) -> bool: ...

    async def unlock(self, request_id: uuid.UUID) -> None: ...

    def step(self) -> AbstractAsyncContextManager[SaveStep]: ...


class SaveUnits(Protocol):
    """Where saves get their unit of work."""

    def open(self) -> AbstractAsyncContextManager[SaveUnit]: ...


class PostgresStep:
    def __init__(self, connection: AsyncConnection, outbox: Outbox) -> None:
        self._connection = connection
        self._outbox = outbox

    async def open_for_writing(
        self,
        *,
        request_id: uuid.UUID,
        user_id: uuid.UUID,
        source_request_id: uuid.UUID | None,
        title: str,
        parent_id: str,
    ) -> PageRecord:
        return await pages.open_for_writing(
            self._connection,
            request_id=request_id,
            user_id=user_id,
            source_request_id=source_request_id,
            title=title,
            parent_id=parent_id,
        )

    async def token_ciphertext(self, user_id: uuid.UUID) -> str | None:
        found = await connections.find(self._connection, user_id)
        return None if found is None else found[0]

    async def find(self, request_id: uuid.UUID) -> PageRecord | None:
        return await pages.find(self._connection, request_id)

    async def creating(self, request_id: uuid.UUID) -> None:
        await pages.creating(self._connection, request_id)

    async def created(
        self, request_id: uuid.UUID, page_id: str, url: str, appended: int, api_calls: int
    ) -> None:
        try:
            await pages.created(self._connection, request_id, page_id, url, appended, api_calls)
        except IntegrityError as error:  # the unique page_id: another save adopted it
            raise PageTaken(page_id) from error

    async def mapped(self, page_ids: list[str]) -> set[str]:
        return await pages.mapped(self._connection, page_ids)

    async def appended(self, request_id: uuid.UUID, appends: int, api_calls: int) -> None:
        await pages.appended(self._connection, request_id, appends, api_calls)

    async def paused(self, request_id: uuid.UUID, *, in_doubt: bool, api_calls: int) -> None:
        await pages.paused(self._connection, request_id, in_doubt=in_doubt, api_calls=api_calls)

    async def synced(self, request_id: uuid.UUID, api_calls: int) -> None:
        await pages.synced(self._connection, request_id, api_calls)

    async def failed(
        self, request_id: uuid.UUID, reason: str, *, retryable: bool, api_calls: int
    ) -> None:
        await pages.failed(
            self._connection, request_id, reason, retryable=retryable, api_calls=api_calls
        )

    async def take_unreported_calls(self, request_id: uuid.UUID) -> tuple[int, int] | None:
        return await pages.take_unreported_calls(self._connection, request_id)

    async def publish(self, event: Envelope[Any]) -> None:
        await self._outbox.add(self._connection, event)


class PostgresSave:
    def __init__(self, connection: AsyncConnection, outbox: Outbox) -> None:
        self._connection = connection
        self._outbox = outbox

    async def lock(self, request_id: uuid.UUID) -> bool:
        async with self._connection.begin():
            return await pages.lock(self._connection, request_id)

    async def unlock(self, request_id: uuid.UUID) -> None:
        async with self._connection.begin():
            await pages.unlock(self._connection, request_id)

    @asynccontextmanager
    async def step(self) -> AsyncIterator[SaveStep]:
        async with self._connection.begin():
            yield PostgresStep(self._connection, self._outbox)


class PostgresSaves:
    def __init__(self, engine: AsyncEngine, outbox: Outbox) -> None:
        self._engine = engine
        self._outbox = outbox

    @asynccontextmanager
    async def open(self) -> AsyncIterator[SaveUnit]:
        async with self._engine.connect() as connection:
            yield PostgresSave(connection, self._outbox)
