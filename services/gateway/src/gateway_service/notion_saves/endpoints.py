"""`POST /v1/generations/{id}/notion`: save a finished generation to Notion afterwards.

Generation holds the content, so the gateway asks it (`generation.save_requested`); it asks
notion_sync in turn. The save is its own request, with its own status, accepted as a
generation is: its event and status row are written by its admission's statement, inside the
request's transaction (which also holds its `Idempotency-Key`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db import driver_connection
from assistant_messaging.publishing.outbox import outbox_row
from assistant_schemas.generation import (
    GenerationSaveRequestedPayload,
    GenerationSaveRequestedV1,
    NotionTarget,
)
from assistant_schemas.ids import new_id
from gateway_service.admission.dependencies import admission_of, user_asking
from gateway_service.admission.gate import Acceptance, Query, StatusRow
from gateway_service.generations.schemas import SaveAccepted
from gateway_service.http.dependencies import BEARER_SECURITY, presented_credential, sessions_of
from gateway_service.http.error_docs import errors, idempotent
from gateway_service.http.events import user_event
from gateway_service.http.idempotency import Claim, claim_or_replay, remember
from gateway_service.http.problems import Problem
from gateway_service.notion_saves.service import resolved_target
from gateway_service.requests.repository import Requests

router = APIRouter(prefix="/v1/generations", tags=["notion"])

FAMILY, SCOPE = "generation", "notion"


@router.post(
    "/{request_id}/notion",
    status_code=202,
    response_model=SaveAccepted,
    summary="Save a finished generation as a Notion page (under its parent or your default)",
    responses=errors(409, 429),
    openapi_extra=idempotent(BEARER_SECURITY),
)
async def save_generation(
    request_id: uuid.UUID, request: Request, target: NotionTarget | None = None
) -> JSONResponse:
    credential = await presented_credential(request)
    query = Query(credential, FAMILY, SCOPE, check_budget=False)
    user_id = await user_asking(query, request)
    async with sessions_of(request)() as session:
        claim = await claim_or_replay(session, user_id, request)
        if not isinstance(claim, JSONResponse):
            return await saved(session, claim, query, request_id, target, request)
    await admission_of(query, request)  # a replay is admitted, and counted, as any request
    return claim


async def saved(
    session: AsyncSession,
    claim: Claim,
    query: Query,
    request_id: uuid.UUID,
    target: NotionTarget | None,
    request: Request,
) -> JSONResponse:
    """The save accepted within `session`'s transaction, its answer stored under `claim`."""
    user_id = claim.user_id
    source = await Requests(session).of_user(user_id, request_id)
    if source is None or source.kind != "generation":
        raise Problem(
            404, "not-found", "No such generation", f"you have no generation {request_id}"
        )
    if source.status != "succeeded":
        raise Problem(
            409,
            "generation-not-finished",
            "Generation not finished",
            f"generation {request_id} is {source.status}: only finished content can be saved",
        )
    resolved = await resolved_target(session, user_id, target or NotionTarget(), "body")
    save_id = new_id()
    event = user_event(
        GenerationSaveRequestedV1,
        GenerationSaveRequestedPayload(
            request_id=save_id, source_request_id=request_id, target=resolved
        ),
        user_id,
        request,
    )
    work = Acceptance(user_id, [StatusRow(save_id, "notion_save")], [outbox_row(event)])
    await admission_of(query, request, work, await driver_connection(session))
    accepted = SaveAccepted(
        request_id=save_id, source_request_id=request_id, status_url=f"/v1/requests/{save_id}"
    )
    body = accepted.model_dump(mode="json")
    await remember(session, claim, 202, body)
    await session.commit()
    return JSONResponse(body, status_code=202, headers={"Location": accepted.status_url})
