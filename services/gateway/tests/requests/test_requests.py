"""Request status: the caller's own only, paginated; `Idempotency-Key` replays or refuses."""

import asyncio
import os
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_db import create_engine, driver_connection, session_factory
from gateway_service.admission.dependencies import admission_of
from gateway_service.admission.gate import Acceptance, Query, StatusRow
from gateway_service.auth.callers import Caller
from gateway_service.http import idempotency
from gateway_service.http.dependencies import CurrentCaller, Session, presented_credential
from gateway_service.models import idempotency_keys, requests
from gateway_service.requests.repository import News, Requests, Status, merged
from gateway_test_support import Register, bearer


@pytest.fixture
def work_endpoint(app: FastAPI) -> None:
    """A POST that accepts asynchronous work the way generation and upload endpoints do."""

    @app.post("/test/work", status_code=202)
    async def accept_work(caller: CurrentCaller, session: Session, request: Request) -> Any:
        claim = await idempotency.claim_or_replay(session, caller.user_id, request)
        if isinstance(claim, JSONResponse):
            return claim
        request_id = uuid.uuid4()
        query = Query(await presented_credential(request), None, "generate", check_budget=False)
        work = Acceptance(caller.user_id, [StatusRow(request_id, "generation")], [])
        await admission_of(query, request, work, await driver_connection(session))
        body = {"request_id": str(request_id), "status_url": f"/v1/requests/{request_id}"}
        await idempotency.remember(session, claim, 202, body)
        await session.commit()
        return body


@pytest.mark.usefixtures("work_endpoint")
async def test_an_accepted_request_is_readable_by_its_owner_only(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada, bob = await register("ada"), await register("bob")
    accepted = (
        await client.post("/test/work", json={"p": 1}, headers=bearer(ada["access_token"]))
    ).json()
    mine = await client.get(accepted["status_url"], headers=bearer(ada["access_token"]))
    assert mine.status_code == 200
    assert (mine.json()["kind"], mine.json()["status"]) == ("generation", "accepted")

    theirs = await client.get(accepted["status_url"], headers=bearer(bob["access_token"]))
    assert theirs.status_code == 404
    listing = await client.get("/v1/requests", headers=bearer(bob["access_token"]))
    assert listing.json()["items"] == []


@pytest.mark.usefixtures("work_endpoint")
async def test_requests_are_listed_newest_first_by_kind_a_page_at_a_time(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    for n in range(5):
        await client.post("/test/work", json={"n": n}, headers=bearer(ada["access_token"]))
    seen: list[str] = []
    url = "/v1/requests?kind=generation&limit=2"
    while url:
        page = (await client.get(url, headers=bearer(ada["access_token"]))).json()
        seen.extend(item["id"] for item in page["items"])
        url = page["next_cursor"] and (
            f"/v1/requests?kind=generation&limit=2&cursor={page['next_cursor']}"
        )
    assert len(seen) == len(set(seen)) == 5
    empty = await client.get("/v1/requests?kind=document", headers=bearer(ada["access_token"]))
    assert empty.json()["items"] == []


@pytest.mark.usefixtures("work_endpoint")
async def test_the_same_key_and_body_replay_the_first_response(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    headers = {**bearer(ada["access_token"]), "Idempotency-Key": "order-42"}
    first = await client.post("/test/work", json={"p": 1}, headers=headers)
    again = await client.post("/test/work", json={"p": 1}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    owned = (
        select(func.count())
        .select_from(requests)
        .where(requests.c.user_id == uuid.UUID(ada["user"]["id"]))
    )
    assert await connection.scalar(owned) == 1

    other = await client.post("/test/work", json={"p": 2}, headers=headers)
    assert other.status_code == 409
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert await connection.scalar(owned) == 1


@pytest.mark.usefixtures("work_endpoint")
async def test_keys_belong_to_their_user(client: httpx.AsyncClient, register: Register) -> None:
    ada, bob = await register("ada"), await register("bob")
    key = {"Idempotency-Key": "same-key"}
    adas = await client.post("/test/work", json={}, headers={**bearer(ada["access_token"]), **key})
    bobs = await client.post("/test/work", json={}, headers={**bearer(bob["access_token"]), **key})
    assert bobs.status_code == 202
    assert bobs.json()["request_id"] != adas.json()["request_id"]


async def test_events_never_move_a_finished_request_back_or_to_another_user(
    connection: AsyncConnection,
) -> None:
    request_id, owner, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        repository = Requests(session)
        for news in [*document_news(request_id, owner), news_of(request_id, stranger, "failed")]:
            await repository.follow([news])
        row = await repository.of_user(owner, request_id)
        assert row is not None
        assert row.status == "succeeded"
        assert row.detail == {"parsing": {"t": 1}, "chunk_count": 3, "indexing": {"t": 1}}
        assert await repository.of_user(stranger, request_id) is None


async def test_a_batch_of_news_folded_together_ends_as_the_news_one_by_one(
    connection: AsyncConnection,
) -> None:
    one_by_one, batched, owner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    others = [news_of(uuid.uuid4(), owner, "running") for _ in range(3)]
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        repository = Requests(session)
        for news in document_news(one_by_one, owner):
            await repository.follow([news])
        batch = [*document_news(batched, owner), *others]
        await repository.follow(merged(batch[:1] + others + batch[1:3]))
        expected = await repository.of_user(owner, one_by_one)
        found = await repository.of_user(owner, batched)
        assert expected is not None
        assert found is not None
        assert (found.status, found.detail) == (expected.status, expected.detail)
        for news in others:
            assert await repository.of_user(owner, news.request_id) is not None


def document_news(request_id: uuid.UUID, user_id: uuid.UUID) -> list[News]:
    """Progress, the end, then a progress event that arrived late."""
    return [
        News(request_id, user_id, "document", "running", {"parsing": {"t": 1}}),
        News(request_id, user_id, "document", "succeeded", {"chunk_count": 3}),
        News(request_id, user_id, "document", "running", {"indexing": {"t": 1}}),
    ]


def news_of(request_id: uuid.UUID, user_id: uuid.UUID, status: Status) -> News:
    return News(request_id, user_id, "document", status, {"x": 1})


def post_request(key: str, body: bytes) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/work",
        "query_string": b"",
        "headers": [(b"idempotency-key", key.encode())],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def test_concurrent_requests_with_one_key_do_the_work_once() -> None:
    """Committed data: the second request waits on the first's claim, then replays it."""
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=2)
    sessions = session_factory(engine)
    caller = Caller(user_id=uuid.uuid4(), is_admin=False, plan_tier="solo")
    first_claimed = asyncio.Event()
    try:

        async def first() -> str:
            async with sessions() as session:
                claim = await idempotency.claim_or_replay(
                    session, caller.user_id, post_request("k", b"{}")
                )
                assert isinstance(claim, idempotency.Claim)
                first_claimed.set()
                await asyncio.sleep(0.5)  # the work takes a while; the second one waits
                await idempotency.remember(session, claim, 202, {"request_id": "r1"})
                await session.commit()
                return "worked"

        async def second() -> str:
            await first_claimed.wait()
            async with sessions() as session:
                outcome = await idempotency.claim_or_replay(
                    session, caller.user_id, post_request("k", b"{}")
                )
                assert isinstance(outcome, JSONResponse), "must not claim the key again"
                assert outcome.headers["idempotent-replayed"] == "true"
                assert outcome.body == b'{"request_id":"r1"}'
                return "replayed"

        assert sorted(await asyncio.gather(first(), second())) == ["replayed", "worked"]
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(idempotency_keys).where(idempotency_keys.c.user_id == caller.user_id)
            )
        await engine.dispose()
