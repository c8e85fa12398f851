"""GET /v1/requests/{id}, GET /v1/requests: the caller's asynchronous requests."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Row

from gateway_service.http.dependencies import CurrentCaller, Session
from gateway_service.http.pagination import cursor_position, encode_cursor
from gateway_service.http.problems import Problem
from gateway_service.requests.repository import Kind, Requests, Status

router = APIRouter(prefix="/v1/requests", tags=["requests"])


class RequestStatus(BaseModel):
    id: uuid.UUID
    kind: Kind
    status: Status
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class RequestPage(BaseModel):
    items: list[RequestStatus]
    next_cursor: str | None


def view(row: Row[Any]) -> RequestStatus:
    return RequestStatus(**{name: getattr(row, name) for name in RequestStatus.model_fields})


@router.get("/{request_id}", summary="The status of one of the caller's requests")
async def get_request(
    request_id: uuid.UUID, caller: CurrentCaller, session: Session
) -> RequestStatus:
    row = await Requests(session).of_user(caller.user_id, request_id)
    if row is None:
        raise Problem(404, "not-found", "No such request", f"you have no request {request_id}")
    return view(row)


@router.get("", summary="The caller's requests, newest first, a page at a time")
async def list_requests(
    caller: CurrentCaller,
    session: Session,
    kind: Kind | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RequestPage:
    before = cursor_position(cursor) if cursor else None
    rows = await Requests(session).page(caller.user_id, kind=kind, limit=limit + 1, before=before)
    page = rows[:limit]
    more = len(rows) > limit
    return RequestPage(
        items=[view(row) for row in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )
