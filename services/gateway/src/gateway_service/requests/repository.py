"""The request status projection. A request's row is written when it is accepted, by the
admission of the POST that creates its work (`sql/admit.sql`), and then follows the events of
the service doing it. Events only ever move a request forward: a
late progress event never turns a finished request back into a running one."""

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db.keyset import past
from gateway_service.models import requests

Kind = Literal["generation", "document", "notion_save"]
Status = Literal["accepted", "running", "succeeded", "failed"]
FINISHED = ("succeeded", "failed")


@dataclass(frozen=True)
class News:
    """What an event says of one request: its status now, and detail to add."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    kind: Kind
    status: Status
    detail: dict[str, Any]

    def then(self, later: "News") -> "News":
        """This news followed by `later`, as `FOLLOW` would apply the two in turn."""
        kept = later.status == "running" and self.status in FINISHED
        status = self.status if kept else later.status
        return replace(later, status=status, detail={**self.detail, **later.detail})


def merged(news: list[News]) -> list[News]:
    """One update per request (a statement may not change a row twice), in first-seen order;
    the same request named for two users stays two updates, and the statement fails."""
    found: dict[tuple[uuid.UUID, uuid.UUID], News] = {}
    for item in news:
        key = (item.request_id, item.user_id)
        found[key] = found[key].then(item) if key in found else item
    return list(found.values())


# Events only move a request forward: a late progress event never turns a finished request
# back into a running one. A request belongs to one user forever: news naming another user is
# ignored.
FOLLOW = text(
    """
    INSERT INTO gateway.requests AS r (id, user_id, kind, status, detail)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:users AS uuid[]), CAST(:kinds AS text[]),
                         CAST(:statuses AS text[]), CAST(:details AS jsonb[]))
    ON CONFLICT (id) DO UPDATE SET
        status = CASE WHEN r.status IN ('succeeded', 'failed') AND excluded.status = 'running'
                      THEN r.status ELSE excluded.status END,
        detail = r.detail || excluded.detail,
        updated_at = now()
    WHERE r.user_id = excluded.user_id
    """
)


class Requests:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def follow(self, news: "list[News]") -> None:
        """Applies events' news in one statement, creating a request started elsewhere
        (another system publishing to Kafka directly). Each request appears once in `news`:
        `merged` folds a batch's updates of one request together."""
        await self.session.execute(
            FOLLOW,
            {
                "ids": [n.request_id for n in news],
                "users": [n.user_id for n in news],
                "kinds": [n.kind for n in news],
                "statuses": [n.status for n in news],
                "details": [json.dumps(n.detail) for n in news],
            },
        )

    async def of_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(requests).where(requests.c.id == request_id, requests.c.user_id == user_id)
            )
        ).one_or_none()

    async def of_document(self, user_id: uuid.UUID, document_id: uuid.UUID) -> Row[Any] | None:
        """The latest request about the user's document (its upload, a retry, its deletion)."""
        return (
            await self.session.execute(
                select(requests)
                .where(
                    requests.c.user_id == user_id,
                    requests.c.kind == "document",
                    requests.c.detail["document_id"].astext == str(document_id),
                )
                .order_by(requests.c.created_at.desc())
                .limit(1)
            )
        ).one_or_none()

    async def page(
        self,
        user_id: uuid.UUID,
        *,
        kind: Kind | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Row[Any]]:
        """Newest first; `before` is the (created_at, id) of the last row of the previous page."""
        statement = (
            select(requests)
            .where(requests.c.user_id == user_id)
            .order_by(requests.c.created_at.desc(), requests.c.id.desc())
            .limit(limit)
        )
        if kind:
            statement = statement.where(requests.c.kind == kind)
        if before:
            statement = statement.where(
                past(requests.c.created_at, requests.c.id, before, descending=True)
            )
        return list(await self.session.execute(statement))
