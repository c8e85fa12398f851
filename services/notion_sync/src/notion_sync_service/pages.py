"""The `notion_pages` rows: which page a request wrote, and how far the writing got.

Each step of a save is recorded before the next Notion call, so a redelivered request, or one
whose writer died, resumes where it stopped: `creating_since` before the page is created,
`page_id` once it exists, `appended` after each append request. One writer per request at a
time is ensured by a session advisory lock held for the whole save: a dead writer's lock goes
with its connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notion_sync_service.models import notion_pages

_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended(CAST(:id AS text), 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(CAST(:id AS text), 0))")


@dataclass(frozen=True)
class PageRecord:
    request_id: uuid.UUID
    status: str
    title: str
    parent_id: str
    page_id: str | None
    url: str | None
    creating_since: datetime | None
    appended: int
    in_doubt: bool
    api_calls: int


async def lock(connection: AsyncConnection, request_id: uuid.UUID) -> bool:
    return bool(await connection.scalar(_LOCK, {"id": str(request_id)}))


async def unlock(connection: AsyncConnection, request_id: uuid.UUID) -> None:
    await connection.execute(_UNLOCK, {"id": str(request_id)})


async def open_for_writing(
    connection: AsyncConnection,
    *,
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    source_request_id: uuid.UUID | None,
    title: str,
    parent_id: str,
) -> PageRecord:
    """The request's record, created on first sight. An unfinished one is marked in doubt from
    here until this attempt records how it ended."""
    await connection.execute(
        insert(notion_pages)
        .values(
            request_id=request_id,
            user_id=user_id,
            source_request_id=source_request_id,
            title=title,
            parent_id=parent_id,
        )
        .on_conflict_do_nothing(index_elements=["request_id"])
    )
    record = await find(connection, request_id)
    assert record is not None
    if record.status == "writing":
        await _set(connection, request_id, in_doubt=True, attempts=notion_pages.c.attempts + 1)
    return record


async def find(connection: AsyncConnection, request_id: uuid.UUID) -> PageRecord | None:
    c = notion_pages.c
    row = (
        await connection.execute(
            select(
                c.request_id,
                c.status,
                c.title,
                c.parent_id,
                c.page_id,
                c.url,
                c.creating_since,
                c.appended,
                c.in_doubt,
                c.api_calls,
            ).where(c.request_id == request_id)
        )
    ).first()
    return PageRecord(**row._mapping) if row else None


async def creating(connection: AsyncConnection, request_id: uuid.UUID) -> datetime:
    """Marks that a create call is about to be sent; returns since when creates were sent."""
    since = await connection.scalar(
        update(notion_pages)
        .where(notion_pages.c.request_id == request_id)
        .values(creating_since=func.coalesce(notion_pages.c.creating_since, func.now()))
        .returning(notion_pages.c.creating_since)
    )
    assert isinstance(since, datetime)
    return since


async def created(
    connection: AsyncConnection,
    request_id: uuid.UUID,
    page_id: str,
    url: str,
    appended: int,
    api_calls: int,
) -> None:
    """The page exists, holding the first `appended` appends (those it was created with)."""
    await _set(
        connection, request_id, page_id=page_id, url=url, appended=appended, api_calls=api_calls
    )


async def mapped(connection: AsyncConnection, page_ids: list[str]) -> set[str]:
    """Which of these pages some request already owns."""
    if not page_ids:
        return set()
    found = await connection.scalars(
        select(notion_pages.c.page_id).where(notion_pages.c.page_id.in_(page_ids))
    )
    return set(found)


async def appended(
    connection: AsyncConnection, request_id: uuid.UUID, appends: int, api_calls: int
) -> None:
    await _set(connection, request_id, appended=appends, api_calls=api_calls)


async def paused(
    connection: AsyncConnection, request_id: uuid.UUID, *, in_doubt: bool, api_calls: int
) -> None:
    """This attempt stopped to wait; `in_doubt` when its last call may or may not have landed."""
    await _set(connection, request_id, in_doubt=in_doubt, api_calls=api_calls)


async def synced(connection: AsyncConnection, request_id: uuid.UUID, api_calls: int) -> None:
    await _set(connection, request_id, status="synced", in_doubt=False, api_calls=api_calls)


async def failed(
    connection: AsyncConnection,
    request_id: uuid.UUID,
    reason: str,
    *,
    retryable: bool,
    api_calls: int,
) -> None:
    await _set(
        connection,
        request_id,
        status="failed",
        reason=reason,
        retryable=retryable,
        api_calls=api_calls,
    )


async def take_unreported_calls(
    connection: AsyncConnection, request_id: uuid.UUID
) -> tuple[int, int] | None:
    """(calls not yet reported in `usage.recorded`, the report's call index), marking them
    reported; None when every call was reported, or the request was never recorded."""
    c = notion_pages.c
    row = (
        await connection.execute(
            select(c.api_calls - c.reported_calls, c.usage_reports).where(
                c.request_id == request_id
            )
        )
    ).first()
    if row is None:
        return None
    calls, index = row
    if calls <= 0:
        return None
    await _set(
        connection, request_id, reported_calls=c.api_calls, usage_reports=c.usage_reports + 1
    )
    return calls, index


@dataclass(frozen=True)
class Outcome:
    request_id: uuid.UUID
    status: str
    page_id: str | None
    url: str | None


async def finished_between(
    connection: AsyncConnection,
    *,
    user_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
    statuses: tuple[str, ...],
) -> list[Outcome]:
    """Saves of a user and/or period that ended in one of `statuses`, oldest first."""
    c = notion_pages.c
    statement = select(c.request_id, c.status, c.page_id, c.url).where(c.status.in_(statuses))
    if user_id is not None:
        statement = statement.where(c.user_id == user_id)
    if since is not None:
        statement = statement.where(c.created_at >= since)
    if until is not None:
        statement = statement.where(c.created_at < until)
    rows = await connection.execute(statement.order_by(c.created_at))
    return [Outcome(*row) for row in rows]


async def reopen(connection: AsyncConnection, request_id: uuid.UUID) -> None:
    """A failed save may be tried again (re-sync): its checkpoints are kept."""
    await _set(connection, request_id, status="writing", reason=None, retryable=None, attempts=0)


async def _set(connection: AsyncConnection, request_id: uuid.UUID, **values: object) -> None:
    await connection.execute(
        update(notion_pages)
        .where(notion_pages.c.request_id == request_id)
        .values(**values, updated_at=func.now())
    )
