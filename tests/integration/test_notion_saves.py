"""Saving pages: notion.page.requested → notion_sync (a real process) → the real notion-client →
a local Notion server that enforces Notion's limits and rate limit → notion.page.synced/failed.

Exactly one page per request, even when the writer is killed between Notion's write and its
answer; a burst never exceeds the rate limit; refusals fail with a reason and no page.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from assistant_fakes.notion_reading import comparable, read_tree
from notion_client import AsyncClient
from notion_stack import (
    RATE_PER_S,
    LocalNotion,
    NotionSync,
    connect,
    events_about,
    eventually,
    long_document,
    max_calls_in_a_second,
    new_token,
    page_request,
    start_notion_sync,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_messaging.publishing.direct import publish_directly
from assistant_runtime.credentials_cipher import CredentialCipher
from notion_sync_service.markdown.blocks import to_blocks
from notion_sync_service.markdown.plan import plan

KEY = CredentialCipher.generate_key()
NOTION_RATE_PER_S = 3  # Notion's own average


@pytest.fixture(scope="module")
def sync(notion: LocalNotion) -> Iterator[NotionSync]:
    process = start_notion_sync(notion, KEY)
    yield process
    process.stop()


async def connected_user(
    bootstrap: str, engine: AsyncEngine, notion: LocalNotion
) -> tuple[uuid.UUID, str]:
    """A user whose Notion token notion_sync has received."""
    user, token = uuid.uuid4(), new_token()
    notion.fake.state.tokens.add(token)
    await publish_directly(bootstrap, [connect(user, token, KEY)])

    async def stored() -> bool:
        async with engine.connect() as connection:
            query = text("SELECT 1 FROM notion_sync.notion_connections WHERE user_id = :u")
            return (await connection.scalar(query, {"u": user})) is not None

    await eventually(stored, "the connection reached notion_sync")
    return user, token


async def outcome(engine: AsyncEngine, request_id: uuid.UUID, timeout: float = 90) -> Any:
    async def finished() -> Any:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT * FROM notion_sync.notion_pages"
                        " WHERE request_id = :r AND status <> 'writing'"
                    ),
                    {"r": request_id},
                )
            ).first()
        return row

    return await eventually(finished, f"save {request_id} finished", timeout)


def title_of(page: dict[str, Any]) -> str:
    prop = next(p for p in page["properties"].values() if p["type"] == "title")
    return "".join(item["plain_text"] for item in prop["title"])


async def test_a_long_document_becomes_one_page_that_reads_back_exactly(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    markdown = long_document()
    request = page_request(user, notion.fake.add_page(), markdown)
    await publish_directly(bootstrap, [request])
    row = await outcome(engine, request.payload.request_id)
    assert row.status == "synced", row.reason
    calls_made = len(notion.calls_of(token))
    assert row.api_calls == calls_made  # every call counted, none made twice

    [page] = notion.pages_of(token)
    assert page["id"] == row.page_id
    assert title_of(page) == "Section 0"  # no title given: the first heading
    client = AsyncClient(auth=token, base_url=notion.url)
    written = await read_tree(client, page["id"])
    assert len(written) >= 300
    assert comparable(written) == comparable(to_blocks(markdown))

    await publish_directly(bootstrap, [request])  # delivered again: nothing more is written
    synced = await events_about(bootstrap, "notion.page.synced", request.payload.request_id)
    assert [m["payload"]["url"] for m in synced] == [page["url"]]
    assert len(notion.pages_of(token)) == 1
    usage = await events_about(bootstrap, "usage.recorded", request.payload.request_id)
    assert [(u["payload"]["usage_type"], u["payload"]["api_calls"]) for u in usage] == [
        ("notion_api", calls_made)
    ]
    assert usage[0]["user_id"] == str(user)
    # Every column of the save, read back.
    assert {k: v for k, v in row._mapping.items() if k not in ("created_at", "updated_at")} == {
        "request_id": request.payload.request_id,
        "user_id": user,
        "source_request_id": None,
        "status": "synced",
        "title": "Section 0",
        "parent_id": request.payload.parent_id,
        "page_id": page["id"],
        "url": page["url"],
        "creating_since": row.creating_since,
        "appended": len(plan(to_blocks(markdown))),
        "in_doubt": False,
        "api_calls": calls_made,
        "reported_calls": calls_made,
        "usage_reports": 1,
        "attempts": 1,
        "reason": None,
        "retryable": None,
    }
    assert row.created_at <= row.creating_since <= row.updated_at


async def test_a_writer_killed_between_batches_resumes_without_duplicating_a_block(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    markdown = long_document()
    request = page_request(user, notion.fake.add_page(), markdown)
    # Each append is written at once but answered late: the kill lands between Notion's write
    # and the writer's checkpoint, the hardest place.
    notion.fake.state.append_delay_s = 0.5
    try:
        await publish_directly(bootstrap, [request])
        await eventually(lambda: len(notion.calls_of(token, "PATCH")) >= 6, "six appends sent")
        await asyncio.sleep(0.2)
        sync.process.kill()
    finally:
        notion.fake.state.append_delay_s = 0.0
    sync.start()
    row = await outcome(engine, request.payload.request_id)
    assert row.status == "synced", row.reason
    [page] = notion.pages_of(token)
    client = AsyncClient(auth=token, base_url=notion.url)
    assert comparable(await read_tree(client, page["id"])) == comparable(to_blocks(markdown))


async def test_a_writer_killed_while_notion_creates_the_page_adopts_it_instead_of_a_second(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    markdown = "# A page created once\n\nIts body.\n\n- one\n- two\n"
    request = page_request(user, notion.fake.add_page(), markdown)
    notion.fake.state.create_delay_s = 3.0  # the page exists; the answer has not come
    try:
        await publish_directly(bootstrap, [request])
        await eventually(
            lambda: (token, "POST", "/v1/pages") in notion.fake.state.calls, "create sent"
        )
        await asyncio.sleep(0.3)
        sync.process.kill()
    finally:
        notion.fake.state.create_delay_s = 0.0
    assert len(notion.pages_of(token)) == 1  # Notion made it; notion_sync never heard
    sync.start()
    row = await outcome(engine, request.payload.request_id)
    assert row.status == "synced", row.reason
    [page] = notion.pages_of(token)
    assert row.page_id == page["id"]
    assert (token, "POST", "/v1/search") in notion.fake.state.calls
    client = AsyncClient(auth=token, base_url=notion.url)
    assert comparable(await read_tree(client, page["id"])) == comparable(to_blocks(markdown))


async def test_a_burst_of_100_saves_finishes_within_notions_own_rate_limit(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    parent = notion.fake.add_page()
    # Notion's real limit, 3 calls in any second, on both sides, for this test alone.
    sync.stop()
    notion.fake.state.rate_per_s = NOTION_RATE_PER_S
    paced = start_notion_sync(notion, KEY, NOTION_SYNC_RATE_PER_S=str(NOTION_RATE_PER_S))
    try:
        refused_before = notion.fake.state.refused
        requests = [
            page_request(user, parent, f"# Note {i}\n\nBody of note {i}.") for i in range(100)
        ]
        await publish_directly(bootstrap, requests)
        rows = [await outcome(engine, r.payload.request_id, timeout=150) for r in requests]
    finally:
        paced.stop()
        notion.fake.state.rate_per_s = RATE_PER_S
        sync.start()
    assert [row.status for row in rows] == ["synced"] * 100
    assert notion.fake.state.refused == refused_before  # Notion never had to say 429
    admitted = [moment for who, moment in notion.fake.state.admitted if who == token]
    assert len(admitted) == 100  # one create each, carrying its blocks; none repeated
    assert max_calls_in_a_second(admitted) <= NOTION_RATE_PER_S
    assert sorted(title_of(p) for p in notion.pages_of(token)) == sorted(
        f"Note {i}" for i in range(100)
    )


async def test_overloaded_notion_sends_the_save_through_the_retry_topic(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    request = page_request(user, notion.fake.add_page(), "# Patience\n\nIt came through.")
    notion.fake.state.overloaded = 2  # the next two calls answer 529
    await publish_directly(bootstrap, [request])
    row = await outcome(engine, request.payload.request_id)
    assert row.status == "synced", row.reason
    retried = await events_about(bootstrap, "notion_sync.retry", request.payload.request_id)
    assert len(retried) == 2
    assert len(notion.pages_of(token)) == 1


async def test_a_revoked_token_fails_the_save_as_not_retryable_with_a_reason(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    notion.fake.state.tokens.discard(token)  # revoked in Notion
    request = page_request(user, notion.fake.add_page(), "# Never written")
    await publish_directly(bootstrap, [request])
    row = await outcome(engine, request.payload.request_id)
    assert row.status == "failed"
    assert row.retryable is False
    assert "set a new one" in row.reason
    [failed] = await events_about(bootstrap, "notion.page.failed", request.payload.request_id)
    assert failed["payload"]["retryable"] is False
    assert "PUT /v1/credentials/notion" in failed["payload"]["reason"]
    assert notion.pages_of(token) == []

    # Access restored, the operator re-syncs the user's failed saves: the page is written.
    notion.fake.state.tokens.add(token)
    rehearsal = resync("--user", str(user), "--dry-run")
    assert "dry run, nothing kept: re-driven 1 failed saves" in rehearsal
    assert (await outcome(engine, request.payload.request_id)).status == "failed"  # not reopened
    assert "re-driven 1 failed saves" in resync("--user", str(user))
    row = await outcome(engine, request.payload.request_id)
    assert row.status == "synced", row.reason
    assert len(notion.pages_of(token)) == 1
    # --all re-announces the synced page (projections converge); nothing is written again.
    calls = len(notion.calls_of(token))
    assert "re-announced 1 synced pages" in resync("--user", str(user), "--all")
    announced = await events_about(bootstrap, "notion.page.synced", request.payload.request_id)
    assert len(announced) == 2
    assert len(notion.calls_of(token)) == calls


def resync(*arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "notion_sync_service", "resync", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_users_pages_are_written_only_with_that_users_connection(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    alice, alice_token = await connected_user(bootstrap, engine, notion)
    bob = uuid.uuid4()  # never connected Notion
    parent = notion.fake.add_page()
    for_alice = page_request(alice, parent, "# Alice's page")
    for_bob = page_request(bob, parent, "# Bob's page")
    await publish_directly(bootstrap, [for_alice, for_bob])
    assert (await outcome(engine, for_alice.payload.request_id)).status == "synced"
    bobs = await outcome(engine, for_bob.payload.request_id)
    assert bobs.status == "failed"
    assert "not connected" in bobs.reason
    assert [title_of(p) for p in notion.pages_of(alice_token)] == ["Alice's page"]
    assert all(title_of(p) != "Bob's page" for p in notion.fake.pages())


async def test_a_database_parent_gets_properties_and_bad_parents_fail_with_a_reason(
    sync: NotionSync, notion: LocalNotion, bootstrap: str, engine: AsyncEngine
) -> None:
    user, token = await connected_user(bootstrap, engine, notion)
    database = notion.fake.add_database(
        {"Name": "title", "Tags": "multi_select", "Model": "rich_text", "Created by": "rich_text"}
    )
    saved = page_request(
        user,
        database,
        "Body only, no heading.",
        parent_type="database",
        title="Weekly notes",
        tags=["kafka", "notes"],
        model="mock-1",
    )
    untitled_database = notion.fake.add_database({"Notes": "rich_text"})
    no_title = page_request(user, untitled_database, "# x", parent_type="database")
    not_shared = page_request(user, str(uuid.uuid4()), "# y")
    await publish_directly(bootstrap, [saved, no_title, not_shared])

    assert (await outcome(engine, saved.payload.request_id)).status == "synced"
    [page] = notion.pages_of(token)
    properties = page["properties"]
    assert title_of(page) == "Weekly notes"
    assert [t["name"] for t in properties["Tags"]["multi_select"]] == ["kafka", "notes"]
    assert properties["Model"]["rich_text"][0]["plain_text"] == "mock-1"
    assert properties["Created by"]["rich_text"][0]["plain_text"] == "Notion Assistant"

    refused = await outcome(engine, no_title.payload.request_id)
    assert refused.status == "failed"
    assert "no title property" in refused.reason
    missing = await outcome(engine, not_shared.payload.request_id)
    assert missing.status == "failed"
    assert "not shared with the integration" in missing.reason
    assert missing.retryable is False
    assert len(notion.pages_of(token)) == 1  # the refused saves left no page behind
