"""`GET /v1/history`: the caller's generated content, newest first — searched and filtered by
generation, which keeps it, and priced by analytics, which keeps the ledger (two questions over
request/reply: the page, then the cost of its requests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from assistant_schemas.queries import (
    HistoryQueryPayload,
    HistoryQueryV1,
    HistoryResultPayload,
    HistoryResultV1,
    UsageReportQueryPayload,
    UsageReportQueryV1,
    UsageReportResultV1,
)
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import scoped
from gateway_service.http.error_docs import errors
from gateway_service.http.events import caller_event
from gateway_service.http.problems import Problem, invalid
from gateway_service.http.queries import Replies, ask

router = APIRouter(prefix="/v1/history", tags=["conversations"])

HistoryCaller = Annotated[Caller, Depends(scoped("generate"))]
PARAMETERS = ("q", "since", "until", "model", "saved_to_notion", "cursor", "limit")


@router.get(
    "",
    summary="Your generated content, newest first: searched, filtered, with its cost",
    responses=errors(400),
)
async def history(
    caller: HistoryCaller,
    request: Request,
    replies: Replies,
    q: Annotated[
        str | None, Query(max_length=500, description="Words in the prompt or the content")
    ] = None,
    since: Annotated[
        str | None,
        Query(max_length=64, description="Created at or after: an ISO 8601 date or time (UTC)"),
    ] = None,
    until: Annotated[
        str | None, Query(max_length=64, description="Created before: a date or time")
    ] = None,
    model: Annotated[str | None, Query(max_length=200, description="`provider/model`")] = None,
    saved_to_notion: Annotated[
        str | None, Query(max_length=5, description="`true` or `false`")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> HistoryResultPayload:
    unknown = sorted(set(request.query_params) - set(PARAMETERS))
    if unknown:
        raise invalid(unknown[0], "known", f"not a filter; use {', '.join(PARAMETERS)}", 400)
    payload = HistoryQueryPayload(
        q=_words(q),
        since=_moment("since", since),
        until=_moment("until", until),
        model=_model(model),
        saved_to_notion=_flag("saved_to_notion", saved_to_notion),
        cursor=cursor,
        limit=limit,
    )
    if payload.since and payload.until and payload.since >= payload.until:
        raise invalid("until", "range", "must be after since", 400)
    event = caller_event(HistoryQueryV1, payload, caller, request)
    page = (await ask(replies, event, HistoryResultV1)).payload
    return await _priced(page, replies, caller, request)


async def _priced(
    page: HistoryResultPayload, replies: Replies, caller: Caller, request: Request
) -> HistoryResultPayload:
    """The page with each request's cost from the ledger; unknown (null) while analytics has
    not priced it, or cannot answer."""
    if not page.items:
        return page
    days = [item.created_at.astimezone(UTC).date() for item in page.items]
    payload = UsageReportQueryPayload(
        kind="requests",
        start=min(days),
        end=max(days),
        request_ids=[item.request_id for item in page.items],
    )
    try:
        event = caller_event(UsageReportQueryV1, payload, caller, request)
        rows = (await ask(replies, event, UsageReportResultV1)).payload.rows
    except Problem:
        return page
    costs = {row.request_id: row.cost_usd for row in rows if not row.unpriced_events}
    items = [
        item.model_copy(update={"cost_usd": costs.get(item.request_id)}) for item in page.items
    ]
    return page.model_copy(update={"items": items})


def _words(q: str | None) -> str | None:
    if q is not None and not q.strip():
        raise invalid("q", "words", "is empty", 400)
    return q


def _moment(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name, "datetime", "an ISO 8601 date or time, e.g. 2026-12-01", 400) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _model(value: str | None) -> str | None:
    if value is not None and not (0 < value.find("/") < len(value) - 1):
        raise invalid("model", "model", "`provider/model`, as GET /v1/models lists", 400)
    return value


def _flag(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise invalid(name, "boolean", "`true` or `false`", 400)
    return value == "true"
