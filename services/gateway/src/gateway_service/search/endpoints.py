"""`GET /v1/search`: the caller's collections and the global one, over request/reply to
ingestion (vector, keyword, or hybrid by reciprocal rank fusion)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from assistant_schemas.queries import (
    SearchQueryPayload,
    SearchQueryV1,
    SearchResultPayload,
    SearchResultV1,
)
from gateway_service.admission.dependencies import admitted
from gateway_service.auth.callers import Caller
from gateway_service.http.error_docs import errors
from gateway_service.http.events import caller_event
from gateway_service.http.problems import Problem
from gateway_service.http.queries import Replies, ask

router = APIRouter(prefix="/v1/search", tags=["documents"])

SearchCaller = Annotated[Caller, Depends(admitted("search", scope="search"))]


@router.get(
    "",
    summary="Search your documents and the global collection",
    responses=errors(429),
)
async def search(
    caller: SearchCaller,
    request: Request,
    replies: Replies,
    q: Annotated[str, Query(min_length=1, max_length=4000, description="What to find")],
    collections: Annotated[
        str | None, Query(description="Comma-separated names; `global` included. Default: all")
    ] = None,
    top_k: Annotated[int, Query(ge=1, le=100)] = 10,
    mode: Literal["vector", "keyword", "hybrid"] = "hybrid",
    filter: Annotated[
        list[str] | None,
        Query(description="`field:value`: content_type, filename, language or metadata.<name>"),
    ] = None,
) -> SearchResultPayload:
    if not q.strip():
        raise Problem(422, "invalid-parameter", "Invalid parameter", "q: is empty")
    filters: dict[str, str | int | float | bool] = {}
    for item in filter or []:
        field, separator, value = item.partition(":")
        if not separator or not field:
            raise Problem(
                422,
                "invalid-parameter",
                "Invalid parameter",
                f"filter: {item!r} is not field:value",
            )
        filters[field] = value
    names = [n.strip() for n in (collections or "").split(",") if n.strip()]
    query = caller_event(
        SearchQueryV1,
        SearchQueryPayload(query=q, collections=names, filters=filters, top_k=top_k, mode=mode),
        caller,
        request,
    )
    return (await ask(replies, query, SearchResultV1)).payload
