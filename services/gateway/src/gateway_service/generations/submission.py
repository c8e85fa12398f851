"""Turning an admitted generation into `generation.requested`, committed with its status row.

The event goes through the outbox in the same transaction as the request's status row (and the
idempotency record), so an accepted request is never lost and never published twice. When the
caller waits (a stream or a synchronous call) the reply stream is opened before the commit and
the event carries this instance's reply address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_messaging.outbox import outbox_row
from assistant_messaging.request_reply import ReplyStream, Requester
from assistant_schemas.catalog import CatalogResultPayload
from assistant_schemas.generation import (
    ChatMessage,
    GenerationParameters,
    GenerationRequestedPayload,
    GenerationRequestedV1,
    NotionTarget,
    RetrievalOptions,
)
from assistant_schemas.ids import new_id
from assistant_schemas.notion import save_request_id
from assistant_schemas.queries import (
    ConversationsQueryPayload,
    ConversationsQueryV1,
    ConversationsResultV1,
)
from gateway_service.generations import validation
from gateway_service.http.events import user_event
from gateway_service.http.queries import ask
from gateway_service.requests.acceptance import Acceptance, Acceptor
from gateway_service.requests.repository import Kind


@dataclass(frozen=True)
class Draft:
    """A generation as every entry point describes it, before checks."""

    provider: str
    model: str
    messages: list[ChatMessage]
    system_prompt: str | None
    parameters: GenerationParameters
    fallbacks: list[str]
    conversation_id: uuid.UUID | None
    stream: bool
    save_to_notion: NotionTarget | None = None  # its parent resolved already
    rag: RetrievalOptions | None = None


async def checked(
    draft: Draft,
    catalog: CatalogResultPayload,
    replies: Requester,
    user_id: uuid.UUID,
    request: Request,
) -> GenerationRequestedPayload:
    """The event payload, once the model, limits and conversation are known to be fine."""
    model = validation.checked_model(catalog, draft.provider, draft.model, "model")
    validation.check_fits(model, draft.messages, draft.system_prompt, draft.parameters.max_tokens)
    fallbacks = validation.parsed_fallbacks(catalog, draft.fallbacks)
    request_id = new_id()
    if draft.conversation_id is not None:
        await ask(
            replies,
            user_event(
                ConversationsQueryV1,
                ConversationsQueryPayload(action="check", conversation_id=draft.conversation_id),
                user_id,
                request,
            ),
            ConversationsResultV1,
        )  # 404 unless it is the caller's
    return GenerationRequestedPayload(
        request_id=request_id,
        conversation_id=draft.conversation_id or request_id,
        provider=draft.provider,
        model=draft.model,
        messages=draft.messages,
        system_prompt=draft.system_prompt,
        parameters=draft.parameters,
        fallbacks=fallbacks,
        stream=draft.stream,
        save_to_notion=draft.save_to_notion,
        rag=draft.rag,
    )


async def publish(
    acceptor: Acceptor,
    user_id: uuid.UUID,
    request: Request,
    payload: GenerationRequestedPayload,
    replies: Requester | None,
) -> tuple[GenerationRequestedV1, ReplyStream | None]:
    """Writes the status row(s) and stages the event through `acceptor` (in one statement,
    which an `InTransaction` acceptor leaves to be committed). With `replies`, the outcome comes
    back to this instance on the returned stream."""
    event = user_event(GenerationRequestedV1, payload, user_id, request)
    stream = replies.open(str(event.event_id)) if replies else None
    accepted: list[tuple[uuid.UUID, Kind]] = [(payload.request_id, "generation")]
    if payload.save_to_notion is not None:
        accepted.append((save_request_id(payload.request_id), "notion_save"))
    row = outbox_row(event, extra_headers=replies.reply_headers if replies else None)
    try:
        await acceptor.accept(Acceptance(user_id, accepted, [row]))
    except BaseException:
        if stream is not None:
            stream.close()
        raise
    return event, stream


async def commit(session: AsyncSession, stream: ReplyStream | None) -> None:
    """Commits the submission; if that fails, no reply is awaited for it any more."""
    try:
        await session.commit()
    except BaseException:
        if stream is not None:
            stream.close()
        raise
