"""A save's logic on an in-memory unit of work, writing with the official notion-client to the
local Notion server: what it records at each step, what it announces, and how it resumes,
pauses, fails and is set aside."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from assistant_fakes.notion import FakeNotion
from notion_client import AsyncClient

from assistant_messaging.consuming.failures import RetryLater
from assistant_messaging.kafka import headers as h
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_schemas import new_event
from assistant_schemas.notion import NotionPageRequestedPayload, NotionPageRequestedV1
from notion_sync_fakes import FakeSaves, StoredPage, served
from notion_sync_service.pacing import Pacer
from notion_sync_service.saving import NO_PARENT, NOT_CONNECTED, PageSaver
from notion_sync_service.settings import NotionSyncSettings

TOKEN = "secret_unit_token"
KEY = CredentialCipher.generate_key()
ATTEMPTS = 3
MARKDOWN = "# Release notes\n\nEverything a reader needs, in one paragraph."


@pytest.fixture(scope="module")
def notion() -> Iterator[tuple[FakeNotion, str]]:
    fake = FakeNotion({TOKEN})
    with served(fake) as url:
        yield fake, url


@pytest.fixture
def saves() -> FakeSaves:
    return FakeSaves()


@pytest.fixture
def saver(notion: tuple[FakeNotion, str], saves: FakeSaves) -> PageSaver:
    settings = NotionSyncSettings(
        api_base_url=notion[1], rate_per_s=1000, retry_max_attempts=ATTEMPTS
    )
    return PageSaver(
        settings=settings, units=saves, cipher=CredentialCipher(KEY), pacer=Pacer(1000)
    )


def connected(saves: FakeSaves) -> uuid.UUID:
    user_id = uuid.uuid4()
    saves.tokens[user_id] = CredentialCipher(KEY).encrypt(TOKEN)
    return user_id


def requested(user_id: uuid.UUID, parent_id: str | None, **fields: Any) -> NotionPageRequestedV1:
    payload = NotionPageRequestedPayload(
        request_id=uuid.uuid4(), markdown=MARKDOWN, parent_id=parent_id, **fields
    )
    return new_event(
        NotionPageRequestedV1, payload, correlation_id="c-1", producer="test", user_id=user_id
    )


def attempt(n: int) -> dict[str, str]:
    """The headers of the job's `n`th delivery (the first has none)."""
    return {h.ATTEMPT: str(n - 1)} if n > 1 else {}


def pages_under(fake: FakeNotion, parent_id: str) -> list[dict[str, Any]]:
    return [page for page in fake.pages() if page["parent"].get("page_id") == parent_id]


async def test_a_short_document_is_one_create_announced_with_its_calls(
    notion: tuple[FakeNotion, str], saves: FakeSaves, saver: PageSaver
) -> None:
    fake, _ = notion
    parent = fake.add_page()
    user_id = connected(saves)
    event = requested(user_id, parent, source_request_id=uuid.uuid4())

    await saver.handle(event, attempt(1))

    [page] = pages_under(fake, parent)
    stored = saves.page(event.payload.request_id)
    assert (stored.status, stored.page_id, stored.url) == ("synced", page["id"], page["url"])
    assert (stored.title, stored.parent_id, stored.user_id) == ("Release notes", parent, user_id)
    assert stored.source_request_id == event.payload.source_request_id
    assert (stored.api_calls, stored.appended, stored.in_doubt) == (1, 1, False)  # one create
    assert stored.creating_since is not None
    assert saves.published_types() == ["notion.page.synced", "usage.recorded"]
    synced, usage = (event.payload for event in saves.published)
    assert synced.model_dump() == {
        "request_id": event.payload.request_id,
        "source_request_id": event.payload.source_request_id,
        "page_id": page["id"],
        "url": page["url"],
    }
    assert (usage.usage_type, usage.api_calls, usage.call_index) == ("notion_api", 1, 0)
    assert all(e.correlation_id == "c-1" and e.user_id == user_id for e in saves.published)
    assert saves.locked == set()


async def test_a_redelivered_save_that_finished_writes_and_announces_nothing(
    notion: tuple[FakeNotion, str], saves: FakeSaves, saver: PageSaver
) -> None:
    fake, _ = notion
    parent = fake.add_page()
    event = requested(connected(saves), parent)
    await saver.handle(event, attempt(1))
    announced = list(saves.published)

    await saver.handle(event, attempt(1))

    assert len(pages_under(fake, parent)) == 1
    assert saves.published == announced


@pytest.mark.parametrize(
    ("parent", "is_connected", "reason"),
    [(None, True, NO_PARENT), ("a-parent", False, NOT_CONNECTED)],
)
async def test_a_save_that_cannot_start_fails_saying_what_to_do(
    saves: FakeSaves, saver: PageSaver, parent: str | None, is_connected: bool, reason: str
) -> None:
    user_id = connected(saves) if is_connected else uuid.uuid4()
    event = requested(user_id, parent and str(uuid.uuid4()))

    await saver.handle(event, attempt(1))

    stored = saves.page(event.payload.request_id)
    assert (stored.status, stored.reason, stored.retryable) == ("failed", reason, False)
    assert saves.published_types() == ["notion.page.failed"]  # no call made, no usage
    assert saves.published[0].payload.reason == reason


async def test_a_page_created_by_a_writer_that_died_is_adopted_not_created_again(
    notion: tuple[FakeNotion, str], saves: FakeSaves, saver: PageSaver
) -> None:
    fake, url = notion
    parent = fake.add_page()
    user_id = connected(saves)
    event = requested(user_id, parent, title="Adopted")
    # The earlier writer sent the create, Notion made the page, the writer died unrecorded.
    saves.pages[event.payload.request_id] = StoredPage(
        event.payload.request_id,
        user_id,
        None,
        "Adopted",
        parent,
        creating_since=datetime.now(UTC) - timedelta(seconds=5),
    )
    async with AsyncClient(auth=TOKEN, base_url=url) as client:
        orphan: Any = await client.pages.create(
            parent={"page_id": parent},
            properties={"title": {"title": [{"text": {"content": "Adopted"}}]}},
        )

    await saver.handle(event, attempt(2))

    [page] = pages_under(fake, parent)
    assert page["id"] == orphan["id"]
    stored = saves.page(event.payload.request_id)
    assert (stored.status, stored.page_id, stored.appended) == ("synced", orphan["id"], 1)
    assert saves.published[0].payload.page_id == orphan["id"]


async def test_an_overloaded_notion_pauses_the_save_until_the_last_attempt_fails_it(
    notion: tuple[FakeNotion, str], saves: FakeSaves, saver: PageSaver
) -> None:
    fake, _ = notion
    parent = fake.add_page()
    event = requested(connected(saves), parent)
    fake.state.overloaded = 1_000
    try:
        with pytest.raises(RetryLater):
            await saver.handle(event, attempt(1))
        paused = saves.page(event.payload.request_id)
        assert (paused.status, paused.in_doubt) == ("writing", False)  # Notion answered: not
        assert paused.api_calls >= 1
        assert saves.published == []

        await saver.handle(event, attempt(ATTEMPTS))
    finally:
        fake.state.overloaded = 0

    stored = saves.page(event.payload.request_id)
    assert (stored.status, stored.retryable) == ("failed", True)
    assert stored.reason is not None
    assert f"gave up after {ATTEMPTS} tries" in stored.reason
    assert saves.published_types() == ["notion.page.failed", "usage.recorded"]
    assert saves.published[1].payload.api_calls == stored.api_calls  # every call, both attempts
    assert pages_under(fake, parent) == []


async def test_a_save_another_instance_is_writing_waits_without_recording(
    saves: FakeSaves, saver: PageSaver
) -> None:
    event = requested(connected(saves), str(uuid.uuid4()))
    saves.locked.add(event.payload.request_id)

    with pytest.raises(RetryLater):
        await saver.handle(event, attempt(1))

    assert (saves.pages, saves.published, saves.steps) == ({}, [], 0)


async def test_a_save_set_aside_ends_failed_with_why_unless_it_finished(
    notion: tuple[FakeNotion, str], saves: FakeSaves, saver: PageSaver
) -> None:
    fake, _ = notion
    never_started = requested(connected(saves), str(uuid.uuid4()))
    finished = requested(connected(saves), fake.add_page())
    await saver.handle(finished, attempt(1))
    announced = len(saves.published)

    await saver.abandon(never_started, {}, "poison")
    await saver.abandon(finished, {}, "poison")

    [failed] = saves.published[announced:]
    assert failed.type == "notion.page.failed"
    assert failed.payload.request_id == never_started.payload.request_id
    assert "set aside (poison)" in failed.payload.reason
    assert failed.payload.retryable is True
    assert saves.page(finished.payload.request_id).status == "synced"
