"""In-memory stand-ins for what a save records (its unit of work), and the local Notion server
served on a port for the official client to talk to."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from assistant_fakes.notion import FakeNotion

from assistant_schemas import Envelope
from notion_sync_service.pages import PageRecord
from notion_sync_service.unit_of_work import PageTaken


@contextmanager
def served(fake: FakeNotion) -> Iterator[str]:
    """The fake's base URL while it serves on a port of its own."""
    server = uvicorn.Server(uvicorn.Config(fake.app, port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake Notion did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class StoredPage:
    """A `notion_pages` row."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    source_request_id: uuid.UUID | None
    title: str
    parent_id: str
    status: str = "writing"
    page_id: str | None = None
    url: str | None = None
    creating_since: datetime | None = None
    appended: int = 0
    in_doubt: bool = False
    api_calls: int = 0
    reason: str | None = None
    retryable: bool | None = None
    attempts: int = 0
    reported_calls: int = 0
    usage_reports: int = 0

    def record(self) -> PageRecord:
        return PageRecord(
            request_id=self.request_id,
            status=self.status,
            title=self.title,
            parent_id=self.parent_id,
            page_id=self.page_id,
            url=self.url,
            creating_since=self.creating_since,
            appended=self.appended,
            in_doubt=self.in_doubt,
            api_calls=self.api_calls,
        )


@dataclass
class FakeSaves:
    """Rows and published events of every save; a step's writes land only if it ends without
    an exception, as a transaction's would."""

    tokens: dict[uuid.UUID, str] = field(default_factory=dict)  # user -> token ciphertext
    pages: dict[uuid.UUID, StoredPage] = field(default_factory=dict)
    published: list[Envelope[Any]] = field(default_factory=list)
    locked: set[uuid.UUID] = field(default_factory=set)
    steps: int = 0  # transactions committed

    @asynccontextmanager
    async def open(self) -> AsyncIterator[FakeSave]:
        yield FakeSave(self)

    def page(self, request_id: uuid.UUID) -> StoredPage:
        return self.pages[request_id]

    def published_types(self) -> list[str]:
        return [event.type for event in self.published]


class FakeSave:
    def __init__(self, saves: FakeSaves) -> None:
        self._saves = saves
        self._held: set[uuid.UUID] = set()

    async def lock(self, request_id: uuid.UUID) -> bool:
        if request_id in self._saves.locked:
            return False
        self._saves.locked.add(request_id)
        self._held.add(request_id)
        return True

    async def unlock(self, request_id: uuid.UUID) -> None:
        if request_id in self._held:
            self._saves.locked.discard(request_id)
            self._held.discard(request_id)

    @asynccontextmanager
    async def step(self) -> AsyncIterator[FakeStep]:
        step = FakeStep(copy.deepcopy(self._saves.pages), self._saves.tokens)
        yield step
        self._saves.pages = step.pages
        self._saves.published.extend(step.staged)
        self._saves.steps += 1


class FakeStep:
    def __init__(self, pages: dict[uuid.UUID, StoredPage], tokens: dict[uuid.UUID, str]) -> None:
        self.pages = pages
        self.tokens = tokens
        self.staged: list[Envelope[Any]] = []

    async def open_for_writing(
        self,
        *,
        request_id: uuid.UUID,
        user_id: uuid.UUID,
        source_request_id: uuid.UUID | None,
        title: str,
        parent_id: str,
    ) -> PageRecord:
        stored = self.pages.setdefault(
            request_id, StoredPage(request_id, user_id, source_request_id, title, parent_id)
        )
        record = stored.record()
        if stored.status == "writing":
            stored.in_doubt = True
            stored.attempts += 1
        return record

    async def token_ciphertext(self, user_id: uuid.UUID) -> str | None:
        return self.tokens.get(user_id)

    async def find(self, request_id: uuid.UUID) -> PageRecord | None:
        stored = self.pages.get(request_id)
        return None if stored is None else stored.record()

    async def creating(self, request_id: uuid.UUID) -> None:
        stored = self.pages[request_id]
        stored.creating_since = stored.creating_since or datetime.now(UTC)

    async def created(
        self, request_id: uuid.UUID, page_id: str, url: str, appended: int, api_calls: int
    ) -> None:
        if any(p.page_id == page_id and p.request_id != request_id for p in self.pages.values()):
            raise PageTaken(page_id)
        stored = self.pages[request_id]
        stored.page_id, stored.url, stored.appended = page_id, url, appended
        stored.api_calls = api_calls

    async def mapped(self, page_ids: list[str]) -> set[str]:
        return {p.page_id for p in self.pages.values() if p.page_id in page_ids}

    async def appended(self, request_id: uuid.UUID, appends: int, api_calls: int) -> None:
        stored = self.pages[request_id]
        stored.appended, stored.api_calls = appends, api_calls

    async def paused(self, request_id: uuid.UUID, *, in_doubt: bool, api_calls: int) -> None:
        stored = self.pages[request_id]
        stored.in_doubt, stored.api_calls = in_doubt, api_calls

    async def synced(self, request_id: uuid.UUID, api_calls: int) -> None:
        stored = self.pages[request_id]
        stored.status, stored.in_doubt, stored.api_calls = "synced", False, api_calls

    async def failed(
        self, request_id: uuid.UUID, reason: str, *, retryable: bool, api_calls: int
    ) -> None:
        stored = self.pages.get(request_id)
        if stored is None:
            return  # never recorded: its failure is announced all the same
        stored.status, stored.reason, stored.retryable = "failed", reason, retryable
        stored.api_calls = api_calls

    async def take_unreported_calls(self, request_id: uuid.UUID) -> tuple[int, int] | None:
        stored = self.pages.get(request_id)
        if stored is None:
            return None
        calls, index = stored.api_calls - stored.reported_calls, stored.usage_reports
        if calls <= 0:
            return None
        stored.reported_calls, stored.usage_reports = stored.api_calls, index + 1
        return calls, index

    async def publish(self, event: Envelope[Any]) -> None:
        self.staged.append(event)
