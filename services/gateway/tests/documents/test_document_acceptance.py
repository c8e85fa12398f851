"""A document's upload, retry and deletion are written by their admission, in the request's
transaction: one refused at the rate limit leaves nothing behind (no status row, event, key
claim or bytes) and is accepted later; a deletion is not counted against the limit."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_blobs import LocalBlobStore
from gateway_service.admission.rate_limits import window_of
from gateway_service.models import rate_limit_windows, requests
from gateway_service.requests.repository import News, Requests
from gateway_test_support import Register, bearer, work_of

SOLO_UPLOADS = 10
NOTES = b"Uploaded once, admitted once."


async def at_the_limit(connection: AsyncConnection, user_id: uuid.UUID) -> None:
    now = datetime.now(UTC)
    for window in (window_of(now), window_of(now) + timedelta(minutes=1)):  # a minute may turn
        full = insert(rate_limit_windows).values(
            user_id=user_id, family="upload", window_start=window, count=SOLO_UPLOADS
        )
        await connection.execute(
            full.on_conflict_do_update(
                index_elements=["user_id", "family", "window_start"], set_={"count": SOLO_UPLOADS}
            )
        )


async def limit_lifted(connection: AsyncConnection, user_id: uuid.UUID) -> None:
    await connection.execute(
        delete(rate_limit_windows).where(rate_limit_windows.c.user_id == user_id)
    )


async def counted(connection: AsyncConnection, user_id: uuid.UUID) -> int:
    total = await connection.scalar(
        select(func.sum(rate_limit_windows.c.count)).where(rate_limit_windows.c.user_id == user_id)
    )
    return total or 0


async def status_row(connection: AsyncConnection, request_id: str) -> dict[str, Any]:
    found = await connection.execute(select(requests).where(requests.c.id == uuid.UUID(request_id)))
    return dict(found.one()._mapping)


async def event_of(connection: AsyncConnection, request_id: str) -> tuple[str, dict[str, Any]]:
    """The topic and event of the outbox row that starts `request_id`."""
    topic, payload = (
        await connection.execute(
            text(
                "SELECT topic, payload FROM gateway.outbox"
                " WHERE position(CAST(:id AS text) IN convert_from(payload, 'UTF8')) > 0"
            ),
            {"id": request_id},
        )
    ).one()
    return topic, json.loads(payload)


def files_in(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_an_upload_refused_at_the_limit_leaves_nothing_and_is_taken_later(
    app: FastAPI,
    client: httpx.AsyncClient,
    register: Register,
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    app.state.blobs = LocalBlobStore(tmp_path)
    tokens = await register()
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "notes-1"}
    user_id = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    files = [("files", ("notes.txt", NOTES))]
    form = {"collection": "manuals", "metadata": '{"team": "docs"}'}
    await at_the_limit(connection, user_id)
    before = await work_of(connection, user_id)

    refused = await client.post("/v1/documents", files=files, data=form, headers=headers)

    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert await work_of(connection, user_id) == before  # no status, no claim, no event
    assert files_in(tmp_path) == []  # and no bytes

    await limit_lifted(connection, user_id)
    accepted = await client.post("/v1/documents", files=files, data=form, headers=headers)
    replayed = await client.post("/v1/documents", files=files, data=form, headers=headers)

    assert accepted.status_code == replayed.status_code == 202, accepted.text
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == accepted.json()
    assert await work_of(connection, user_id) == tuple(count + 1 for count in before)
    assert await counted(connection, user_id) == 2  # the replay is admitted and counted too
    [document] = accepted.json()["documents"]
    digest = hashlib.sha256(NOTES).hexdigest()
    assert files_in(tmp_path) == [tmp_path / str(user_id) / digest]
    assert (tmp_path / str(user_id) / digest).read_bytes() == NOTES

    topic, event = await event_of(connection, document["request_id"])
    assert topic == "document.uploaded"
    assert event["user_id"] == str(user_id)
    upload = event["payload"]
    assert upload["blob"] == {
        "uri": f"blob://{user_id}/{digest}",
        "sha256": digest,
        "size_bytes": len(NOTES),
        "content_type": "text/plain",
    }
    assert upload["metadata"] == {"team": "docs", "collection": "manuals"}
    row = await status_row(connection, document["request_id"])
    assert row.pop("created_at") <= row.pop("updated_at")
    assert row == {
        "id": uuid.UUID(document["request_id"]),
        "user_id": user_id,
        "kind": "document",
        "status": "accepted",
        "detail": {
            "document_id": document["document_id"],
            "filename": "notes.txt",
            "collection": "manuals",
            "size_bytes": len(NOTES),
            "upload": upload,
        },
    }


async def test_a_retry_is_counted_and_a_deletion_is_not(
    app: FastAPI,
    client: httpx.AsyncClient,
    register: Register,
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    app.state.blobs = LocalBlobStore(tmp_path)
    tokens = await register()
    headers = bearer(tokens["access_token"])
    user_id = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    files = [("files", ("notes.txt", NOTES))]
    [uploaded] = (await client.post("/v1/documents", files=files, headers=headers)).json()[
        "documents"
    ]
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        failure = {"error": {"stage": "parsing", "message": "unreadable"}}
        news = News(uuid.UUID(uploaded["request_id"]), user_id, "document", "failed", failure)
        await Requests(session).follow([news])
        await session.commit()  # into the test's transaction, rolled back at its end
    retry_url = f"/v1/documents/{uploaded['document_id']}/retry"
    await at_the_limit(connection, user_id)
    before = await work_of(connection, user_id)

    refused = await client.post(retry_url, headers=headers)

    assert refused.status_code == 429, refused.text
    assert await work_of(connection, user_id) == before

    await limit_lifted(connection, user_id)
    retried = await client.post(retry_url, headers=headers)

    assert retried.status_code == 202, retried.text
    assert await counted(connection, user_id) == 1
    again = await status_row(connection, retried.json()["request_id"])
    topic, event = await event_of(connection, retried.json()["request_id"])
    assert topic == "document.uploaded"
    assert event["payload"]["document_id"] == uploaded["document_id"]
    assert (again["kind"], again["status"]) == ("document", "accepted")
    assert again["detail"]["upload"] == event["payload"]
    assert again["detail"]["error"] is None

    await at_the_limit(connection, user_id)
    deleted = await client.delete(f"/v1/documents/{uploaded['document_id']}", headers=headers)

    assert deleted.status_code == 202, deleted.text
    assert await counted(connection, user_id) == 2 * SOLO_UPLOADS  # not counted
    topic, event = await event_of(connection, deleted.json()["request_id"])
    assert (topic, event["payload"]) == (
        "document.delete_requested",
        {"document_id": uploaded["document_id"], "request_id": deleted.json()["request_id"]},
    )
    deletion = await status_row(connection, deleted.json()["request_id"])
    assert (deletion["kind"], deletion["status"], deletion["detail"]) == (
        "document",
        "accepted",
        {"document_id": uploaded["document_id"], "deleting": True},
    )
