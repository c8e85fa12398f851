"""GET /v1/notion/connection (checked by notion_sync with a real Notion call) and
DELETE /v1/notion/connection (removes the integration token everywhere)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from assistant_schemas.notion import (
    NotionConnectionQueryPayload,
    NotionConnectionQueryV1,
    NotionConnectionResultPayload,
    NotionConnectionResultV1,
)
from gateway_service.auth.callers import Caller
from gateway_service.credentials.endpoints import delete_credential
from gateway_service.http.dependencies import EventOutbox, Session, scoped
from gateway_service.http.error_docs import errors
from gateway_service.http.events import caller_event
from gateway_service.http.queries import Replies, ask

router = APIRouter(prefix="/v1/notion", tags=["notion"])

NotionCaller = Annotated[Caller, Depends(scoped("notion"))]


@router.get("/connection", summary="The caller's Notion connection, checked against Notion now")
async def connection(
    caller: NotionCaller, request: Request, replies: Replies
) -> NotionConnectionResultPayload:
    query = caller_event(NotionConnectionQueryV1, NotionConnectionQueryPayload(), caller, request)
    return (await ask(replies, query, NotionConnectionResultV1)).payload


@router.delete("/connection", status_code=204, summary="Disconnect Notion", responses=errors(404))
async def disconnect(
    caller: NotionCaller, session: Session, request: Request, events: EventOutbox
) -> Response:
    return await delete_credential("notion", caller, session, request, events)
