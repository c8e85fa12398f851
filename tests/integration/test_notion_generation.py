"""Generated content saved to Notion, end to end: gateway → generation → notion_sync → the
local Notion server, and the page's URL back in the request status and content history."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from generation_stack import GenerationStack, User, final_status, register, start_generation_stack
from notion_stack import LocalNotion, NotionSync, new_token, start_notion_sync
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest.fixture(scope="module")
def stack(notion: LocalNotion) -> Iterator[tuple[GenerationStack, NotionSync]]:
    for generation_stack in start_generation_stack():
        sync = start_notion_sync(notion, generation_stack.env["CREDENTIALS_KEYS"])
        try:
            yield generation_stack, sync
        finally:
            sync.stop()


def connected(http: httpx.Client, notion: LocalNotion, parent: str | None) -> tuple[User, str]:
    """A user with a Notion token set at the gateway (and a default parent, if given)."""
    user, token = register(http), new_token()
    notion.fake.state.tokens.add(token)
    put = http.put("/v1/credentials/notion", json={"api_key": token}, headers=user.headers)
    assert put.status_code == 200, put.text
    if parent is not None:
        settings = {"notion_config": {"default_parent_id": parent, "default_parent_type": "page"}}
        patched = http.patch("/v1/me", json={"settings": settings}, headers=user.headers)
        assert patched.status_code == 200, patched.text
    deadline = time.monotonic() + 30
    while http.get("/v1/notion/connection", headers=user.headers).json()["status"] != "connected":
        assert time.monotonic() < deadline, "the token never reached notion_sync"
        time.sleep(0.3)
    return user, token


def finished(http: httpx.Client, user: User, request_id: str) -> dict[str, Any]:
    status: dict[str, Any] = final_status(http, user, request_id, timeout=60)
    assert status["status"] == "succeeded", status
    return status


async def test_a_generation_with_save_to_notion_becomes_a_page_whose_url_comes_back(
    stack: tuple[GenerationStack, NotionSync], notion: LocalNotion, engine: AsyncEngine
) -> None:
    generation, _ = stack
    default_parent = notion.fake.add_page()
    with generation.client() as http:
        user, token = connected(http, notion, default_parent)
        accepted = http.post(
            "/v1/generations",
            json={"prompt": "Write release notes for Kafka", "save_to_notion": {}},
            headers=user.headers,
        )
        assert accepted.status_code == 202, accepted.text
        body = accepted.json()
        save = finished(http, user, body["notion_request_id"])
        [page] = notion.pages_of(token)
        assert save["kind"] == "notion_save"
        assert save["detail"]["url"] == page["url"]
        assert page["parent"]["page_id"] == default_parent  # the user's default
        source = finished(http, user, body["request_id"])
        assert source["detail"]["notion"]["url"] == page["url"]
        async with engine.connect() as connection:
            stored = await connection.scalar(
                text("SELECT notion_url FROM generation.content_history WHERE id = :id"),
                {"id": uuid.UUID(body["request_id"])},
            )
        assert stored == page["url"]

        # Saved again afterwards, elsewhere: a second page, its own request.
        elsewhere = notion.fake.add_page()
        again = http.post(
            f"/v1/generations/{body['request_id']}/notion",
            json={"parent_id": elsewhere, "parent_type": "page"},
            headers=user.headers,
        )
        assert again.status_code == 202, again.text
        assert again.headers["RateLimit-Limit"] == "100"  # counted as a solo user's generation
        second = finished(http, user, again.json()["request_id"])
        pages = notion.pages_of(token)
        assert len(pages) == 2
        assert second["detail"]["url"] == pages[1]["url"]
        assert pages[1]["parent"]["page_id"] == elsewhere


async def test_saves_without_a_parent_or_of_anothers_generation_are_refused(
    stack: tuple[GenerationStack, NotionSync], notion: LocalNotion
) -> None:
    generation, _ = stack
    with generation.client() as http:
        alice, _ = connected(http, notion, parent=None)
        refused = http.post(
            "/v1/generations",
            json={"prompt": "Anything", "save_to_notion": {}},
            headers=alice.headers,
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert "save_to_notion.parent_id" in refused.json()["detail"]
        listed = http.get("/v1/requests", headers=alice.headers).json()
        assert listed["items"] == []  # nothing accepted, nothing published

        bob, _ = connected(http, notion, notion.fake.add_page())
        done = http.post(
            "/v1/generations",
            json={"prompt": "Bob's secret"},
            headers={**bob.headers, "Prefer": "wait=30"},
        )
        assert done.status_code == 200, done.text
        stolen = http.post(
            f"/v1/generations/{done.json()['request_id']}/notion",
            json={"parent_id": notion.fake.add_page()},
            headers=alice.headers,
        )
        assert stolen.status_code == 404
        assert stolen.headers["content-type"] == "application/problem+json"
