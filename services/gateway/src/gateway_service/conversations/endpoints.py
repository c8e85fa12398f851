"""Conversations, kept by the generation service and read through it: list, get, rename,
delete, export. Every call is answered for the caller's own conversations only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from assistant_schemas.queries import (
    ConversationsQueryPayload,
    ConversationsQueryV1,
    ConversationsResultV1,
    ConversationSummary,
)
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import scoped
from gateway_service.http.events import caller_event
from gateway_service.http.queries import Replies, ask

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

ConversationCaller = Annotated[Caller, Depends(scoped("generate"))]


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    next_cursor: str | None


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)


async def query(
    replies: Replies, caller: Caller, request: Request, payload: ConversationsQueryPayload
) -> ConversationsResultV1:
    event = caller_event(ConversationsQueryV1, payload, caller, request)
    return await ask(replies, event, ConversationsResultV1)


@router.get("", summary="The caller's conversations, most recently active first")
async def list_conversations(
    caller: ConversationCaller,
    request: Request,
    replies: Replies,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ConversationPage:
    payload = ConversationsQueryPayload(action="list", cursor=cursor, limit=limit)
    result = (await query(replies, caller, request, payload)).payload
    return ConversationPage(items=result.conversations, next_cursor=result.next_cursor)


@router.get("/{conversation_id}", summary="A conversation with its messages")
async def get_conversation(
    conversation_id: uuid.UUID, caller: ConversationCaller, request: Request, replies: Replies
) -> ConversationSummary:
    payload = ConversationsQueryPayload(action="get", conversation_id=conversation_id)
    return (await query(replies, caller, request, payload)).payload.conversations[0]


@router.patch("/{conversation_id}", summary="Rename a conversation")
async def rename_conversation(
    conversation_id: uuid.UUID,
    body: RenameIn,
    caller: ConversationCaller,
    request: Request,
    replies: Replies,
) -> ConversationSummary:
    payload = ConversationsQueryPayload(
        action="rename", conversation_id=conversation_id, title=body.title
    )
    return (await query(replies, caller, request, payload)).payload.conversations[0]


@router.delete("/{conversation_id}", status_code=204, summary="Delete a conversation")
async def delete_conversation(
    conversation_id: uuid.UUID, caller: ConversationCaller, request: Request, replies: Replies
) -> Response:
    payload = ConversationsQueryPayload(action="delete", conversation_id=conversation_id)
    await query(replies, caller, request, payload)
    return Response(status_code=204)


@router.get(
    "/{conversation_id}/export",
    summary="The conversation as JSON or Markdown",
    responses={200: {"content": {"text/markdown": {}}}},
)
async def export_conversation(
    conversation_id: uuid.UUID,
    caller: ConversationCaller,
    request: Request,
    replies: Replies,
    format: Literal["json", "markdown"] = "json",
) -> Response:
    payload = ConversationsQueryPayload(action="get", conversation_id=conversation_id)
    conversation = (await query(replies, caller, request, payload)).payload.conversations[0]
    name = f"conversation-{conversation_id}"
    if format == "json":
        return Response(
            conversation.model_dump_json(indent=2),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    return Response(
        as_markdown(conversation),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.md"'},
    )


def as_markdown(conversation: ConversationSummary) -> str:
    lines = [f"# {conversation.title or 'Untitled conversation'}", ""]
    lines.append(f"_Started {_stamp(conversation.created_at)}_")
    for message in conversation.messages:
        who = message.role.capitalize()
        if message.model:
            who += f" ({message.provider}/{message.model})"
        lines += ["", f"## {who}", "", message.content]
    return "\n".join(lines) + "\n"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
