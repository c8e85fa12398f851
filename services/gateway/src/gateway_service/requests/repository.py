"""The request status projection. A request is accepted by the POST that creates the work and
then follows the events of the service doing it. Events only ever move a request forward: a
late progress event never turns a finished request back into a running one."""

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, and_, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db.keyset import past
from gateway_service.models import requests

Kind = Literal["generation", "document", "notion_save"]
Status = Literal["accepted", "running", "succeeded", "failed"]
FINISHED = ("succeeded", "failed")


class Requests:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accept(
        self,
        request_id: uuid.UUID,
        user_id: uuid.UUID,
        kind: Kind,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.session.execute(
            insert(requests).values(
                id=request_id, user_id=user_id, kind=kind, status="accepted", detail=detail or {}
            )
        )

    async def follow(
        self,
        request_id: uuid.UUID,
        user_id: uuid.UUID,
        kind: Kind,
        status: Status,
        detail: dict[str, Any],
    ) -> None:
        """Applies an event's news; creates the request if it was started elsewhere (another
        system publishing to Kafka directly)."""
        statement = insert(requests).values(
            id=request_id, user_id=user_id, kind=kind, status=status, detail=detail
        )
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "status": case(
                    (
                        and_(
                            requests.c.status.in_(FINISHED), statement.excluded.status == "running"
                        ),
                        requests.c.status,
                    ),
                    else_=statement.excluded.status,
                ),
                "detail": requests.c.detail.op("||")(statement.excluded.detail),
                "updated_at": func.now(),
            },
            # A request belongs to one user forever; an event naming another is ignored.
            where=requests.c.user_id == statement.excluded.user_id,
        )
        await self.session.execute(statement)

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
