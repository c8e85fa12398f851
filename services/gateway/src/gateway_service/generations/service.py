"""Submitting a generation: the one way both generation endpoints accept one.

`submit` checks the request against the catalogue (and, for a conversation, asks generation
whether it is the caller's), makes its `generation.requested` event, and hands the event with
the request's status row to admission (`admission.gate`), which writes them if and only if the
request is admitted: one statement, so an accepted request is never lost and a refused one
leaves nothing behind. When the client waits for the outcome (a stream or `Prefer: wait`) the
reply stream is opened before that statement and the event carries this instance's reply
address. A request with an `Idempotency-Key` or a Notion save is admitted inside a
transaction of its own, which also holds the key's claim and the stored response.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db import Statements, driver_connection
from assistant_messaging.publishing.outbox import outbox_row
from assistant_messaging.request_reply.requester import ReplyStream, Requester
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
from gateway_service.admission.dependencies import admission_of, user_asking
from gateway_service.admission.gate import Acceptance, Query, StatusRow
from gateway_service.auth.callers import Credential
from gateway_service.catalog.service import CatalogView, resolve_name
from gateway_service.generations import validation
from gateway_service.generations.schemas import Accepted
from gateway_service.http.dependencies import sessions_of
from gateway_service.http.events import user_event
from gateway_service.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway_service.http.idempotency import Claim, claim_or_replay, remember
from gateway_service.http.problems import Problem
from gateway_service.http.queries import ask, requester_of
from gateway_service.notion_saves.service import resolved_target

FAMILY, SCOPE = "generation", "generate"


@dataclass(frozen=True)
class Draft:
    """A generation as every entry point describes it, before checks."""

    provider: str | None  # None: `model` is a name to resolve (`provider/model` or bare)
    model: str
    messages: list[ChatMessage]
    system_prompt: str | None
    parameters: GenerationParameters
    fallbacks: list[str]
    conversation_id: uuid.UUID | None
    stream: bool
    save_to_notion: NotionTarget | None = None
    rag: RetrievalOptions | None = None


@dataclass(frozen=True)
class Submitted:
    accepted: Accepted
    user_id: uuid.UUID
    stream: ReplyStream | None  # the outcome's replies, when the client waits for them


def catalog_of(request: Request) -> CatalogView:
    view: CatalogView = request.app.state.catalog
    return view


async def submit(
    draft: Draft, credential: Credential, request: Request, *, waiting: bool
) -> Submitted | JSONResponse:
    """Accepts the generation (with a reply stream if `waiting`), or answers what an earlier
    request with the same `Idempotency-Key` was answered."""
    query = Query(credential, FAMILY, SCOPE, check_budget=True)
    user_id = await user_asking(query, request)
    # A stream or a wait cannot be replayed; an acceptance can.
    idempotent = not waiting and IDEMPOTENCY_HEADER in request.headers
    if not idempotent and draft.save_to_notion is None:
        return await _accepted(draft, query, user_id, request, waiting, None)
    async with sessions_of(request)() as session:
        claim = await claim_or_replay(session, user_id, request) if idempotent else None
        if not isinstance(claim, JSONResponse):
            return await _accepted_in(session, claim, draft, query, user_id, request, waiting)
    await admission_of(query, request)  # a replay is admitted, and counted, as any request
    return claim


async def _accepted_in(
    session: AsyncSession,
    claim: Claim | None,
    draft: Draft,
    query: Query,
    user_id: uuid.UUID,
    request: Request,
    waiting: bool,
) -> Submitted:
    """Accepted within `session`'s transaction, with the response stored under its claim."""
    if draft.save_to_notion is not None:
        target = await resolved_target(session, user_id, draft.save_to_notion, "save_to_notion")
        draft = replace(draft, save_to_notion=target)
    submitted = await _accepted(
        draft, query, user_id, request, waiting, await driver_connection(session)
    )
    try:
        if claim is not None:
            await remember(session, claim, 202, submitted.accepted.model_dump(mode="json"))
        await session.commit()
    except BaseException:
        if submitted.stream is not None:
            submitted.stream.close()  # nothing was accepted: no reply will come
        raise
    return submitted


async def _accepted(
    draft: Draft,
    query: Query,
    user_id: uuid.UUID,
    request: Request,
    waiting: bool,
    transaction: Statements | None,
) -> Submitted:
    replies = requester_of(request)
    payload = await checked(draft, await catalog_of(request).current(), replies, user_id, request)
    event = user_event(GenerationRequestedV1, payload, user_id, request)
    stream = replies.open(str(event.event_id)) if waiting else None
    requests = [StatusRow(payload.request_id, "generation")]
    if payload.save_to_notion is not None:
        requests.append(StatusRow(save_request_id(payload.request_id), "notion_save"))
    row = outbox_row(event, extra_headers=replies.reply_headers if waiting else None)
    try:
        await admission_of(query, request, Acceptance(user_id, requests, [row]), transaction)
    except BaseException:
        if stream is not None:
            stream.close()
        raise
    accepted = Accepted(
        request_id=payload.request_id,
        conversation_id=payload.conversation_id or payload.request_id,
        status_url=f"/v1/requests/{payload.request_id}",
        notion_request_id=save_request_id(payload.request_id) if draft.save_to_notion else None,
    )
    return Submitted(accepted, user_id, stream)


async def checked(
    draft: Draft,
    catalog: CatalogResultPayload,
    replies: Requester,
    user_id: uuid.UUID,
    request: Request,
) -> GenerationRequestedPayload:
    """The event payload, once the model, limits and conversation are known to be fine."""
    provider, model_name = _model_of(draft, catalog)
    model = validation.checked_model(catalog, provider, model_name, "model")
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
        provider=provider,
        model=model_name,
        messages=draft.messages,
        system_prompt=draft.system_prompt,
        parameters=draft.parameters,
        fallbacks=fallbacks,
        stream=draft.stream,
        save_to_notion=draft.save_to_notion,
        rag=draft.rag,
    )


def _model_of(draft: Draft, catalog: CatalogResultPayload) -> tuple[str, str]:
    if draft.provider is not None:
        return draft.provider, draft.model
    resolved = resolve_name(catalog, draft.model)
    if resolved is None:
        raise Problem(
            404,
            "model_not_found",
            "Unknown model",
            f"The model `{draft.model}` does not exist; GET /v1/models lists them",
        )
    return resolved
