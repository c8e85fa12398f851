"""Generated content saved to Notion, end to end: gateway → generation → notion_sync → the
local Notion server, and the page's URL back in the request status and content history."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from analytics_support import start_analytics
from assistant_fakes.llm import ANSWER
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


def priced(stack: GenerationStack, model: str) -> None:
    """`model` costs $1,000 and $2,000 per million tokens in analytics' price table (an
    operator's command), from this month's first day, so that every request of it costs."""
    provider, name = model.split("/")
    first = datetime.now(UTC).date().replace(day=1).isoformat()
    command = [sys.executable, "-m", "analytics_service", "set-price", "--provider", provider]
    command += ["--model", name, "--valid-from", first, "--input", "1000", "--output", "2000"]
    done = subprocess.run(command, env={**os.environ, **stack.env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_history_lists_searches_and_filters_what_was_generated_with_its_cost(
    stack: tuple[GenerationStack, NotionSync], notion: LocalNotion, engine: AsyncEngine
) -> None:
    generation, _ = stack
    priced(generation, "fake-openai/fixed")
    analytics = start_analytics()
    try:
        with generation.client() as http:
            ana, _ = connected(http, notion, notion.fake.add_page())
            asked = [
                ("Escreva uma receita de pão de queijo", "fake-openai/fixed", True),
                ("Write release notes for Kafka", "mock/mock-1", False),
                ("Summarise the outbox pattern", "fake-openai/fixed", False),
            ]
            ids = []
            for prompt, model, save in asked:
                provider, name = model.split("/")
                body: dict[str, Any] = {"prompt": prompt, "provider": provider, "model": name}
                if save:
                    body["save_to_notion"] = {}
                accepted = http.post("/v1/generations", json=body, headers=ana.headers).json()
                finished(http, ana, accepted["request_id"])
                if save:
                    finished(http, ana, accepted["notion_request_id"])
                ids.append(accepted["request_id"])
            saved, mocked, plain = ids

            def listed(**params: Any) -> list[str]:
                page = http.get("/v1/history", params=params, headers=ana.headers)
                assert page.status_code == 200, page.text
                return [item["request_id"] for item in page.json()["items"]]

            def everything() -> dict[str, Any]:
                page = http.get("/v1/history", headers=ana.headers).json()
                return {item["request_id"]: item for item in page["items"]}

            # Analytics prices usage as it arrives: the costs appear a moment later.
            deadline = time.monotonic() + 30
            while everything()[plain]["cost_usd"] is None:
                assert time.monotonic() < deadline, "the requests were never priced"
                await asyncio.sleep(0.5)
            items = everything()
            assert list(items) == [plain, mocked, saved]  # newest first
            async with engine.connect() as connection:
                stored = {
                    str(row.id): row
                    for row in await connection.execute(
                        text("SELECT * FROM generation.content_history WHERE user_id = :u"),
                        {"u": ana.user_id},
                    )
                }
            for request_id, (prompt, model, _) in zip(ids, asked, strict=True):
                item, row = items[request_id], stored[request_id]
                assert item["prompt"] == prompt == row.prompt
                assert item["content"] == row.generated_content
                assert f"{item['provider']}/{item['model']}" == model
                assert item["conversation_id"] == str(row.conversation_id)
                assert datetime.fromisoformat(item["created_at"]) == row.created_at
                assert item["notion_url"] == row.notion_url
            assert items[plain]["content"] == ANSWER
            [page] = notion.pages_of(_notion_token(notion, items[saved]["notion_url"]))
            assert items[saved]["notion_url"] == page["url"]
            assert items[mocked]["notion_url"] is None
            # Priced at $1,000/$2,000 per million tokens: what the ledger says each cost.
            assert Decimal(items[plain]["cost_usd"]) > 0
            assert Decimal(items[mocked]["cost_usd"]) == 0  # the mock provider is free

            assert listed(q="receitas de queijo") == [saved]  # Portuguese stems
            assert listed(q="notes") == [mocked]  # English stems ("release notes")
            assert listed(q="fake upstream") == [plain, saved]  # in the content
            assert listed(model="fake-openai/fixed") == [plain, saved]
            assert listed(saved_to_notion="true") == [saved]
            assert listed(saved_to_notion="false") == [plain, mocked]
            created = {i: datetime.fromisoformat(items[i]["created_at"]) for i in ids}
            assert listed(since=created[mocked].isoformat()) == [plain, mocked]
            assert listed(until=created[mocked].isoformat()) == [saved]
            first = http.get("/v1/history", params={"limit": 2}, headers=ana.headers).json()
            assert [i["request_id"] for i in first["items"]] == [plain, mocked]
            assert listed(limit=2, cursor=first["next_cursor"]) == [saved]

            bob = register(http)  # another user sees none of it, whatever he asks
            assert http.get("/v1/history", headers=bob.headers).json()["items"] == []
            assert (
                http.get("/v1/history", params={"q": "queijo"}, headers=bob.headers).json()["items"]
                == []
            )

            for params, field in (
                ({"provider": "fake-openai"}, "provider"),
                ({"since": "yesterday"}, "since"),
                ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
                ({"model": "fixed"}, "model"),
                ({"saved_to_notion": "yes"}, "saved_to_notion"),
                ({"q": " "}, "q"),
            ):
                refused = http.get("/v1/history", params=params, headers=ana.headers)
                assert refused.status_code == 400, (params, refused.text)
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["detail"].startswith(f"{field}:"), refused.json()
            # A value far too long for any filter is refused before it is read, naming it.
            params = {"model": "a/" + "x" * 10_000}
            huge = http.get("/v1/history", params=params, headers=ana.headers)
            assert huge.status_code == 422, huge.text
            assert huge.json()["errors"][0]["field"] == "query.model"
            # Not a filter: a cursor is refused as every listing refuses one.
            refused = http.get("/v1/history", params={"cursor": "x"}, headers=ana.headers)
            assert refused.status_code == 422
            assert refused.json()["errors"][0]["field"] == "cursor"
    finally:
        analytics.stop()


def _notion_token(notion: LocalNotion, url: str) -> str:
    """The token whose workspace holds the page at `url`."""
    return next(
        token
        for token in notion.fake.state.tokens
        if any(page["url"] == url for page in notion.pages_of(token))
    )
