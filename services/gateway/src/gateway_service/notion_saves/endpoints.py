"""`POST /v1/generations/{id}/notion`: save a finished generation to Notion afterwards.

Generation holds the content, so the gateway asks it (`generation.save_requested`); it asks
notion_sync in turn. The save is its own request, with its own status.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from assistant_schemas.generation import (
    GenerationSaveRequestedPayload,
    GenerationSaveRequestedV1,
    NotionTarget,
)
from assistant_schemas.ids import new_id
from gateway_service.admission.dependencies import admitted
from gateway_service.auth.callers import Caller
from gateway_service.generations.schemas import SaveAccepted
from gateway_service.http.dependencies import EventOutbox, Session
from gateway_service.http.error_docs import errors, idempotent
from gateway_service.http.events import caller_event
from gateway_service.http.idempotency import claim_or_replay, remember
from gateway_service.http.problems import Problem
from gateway_service.notion_saves.service import resolved_target
from gateway_service.requests.repository import Requests

router = APIRouter(prefix="/v1/generations", tags=["notion"])

NotionCaller = Annotated[Caller, Depends(admitted("generation", scope="notion"))]


@router.post(
    "/{request_id}/notion",
    status_code=202,
    response_model=SaveAccepted,
    summary="Save a finished generation as a Notion page (under its parent or your default)",
    responses=errors(409, 429),
    openapi_extra=idempotent(),
)
async def save_generation(
    request_id: uuid.UUID,
    caller: NotionCaller,
    session: Session,
    request: Request,
    events: EventOutbox,
    target: NotionTarget | None = None,
) -> JSONResponse:
    claim = await claim_or_replay(session, caller.user_id, request)
    if isinstance(claim, JSONResponse):
        return claim
    requests = Requests(session)
    source = await requests.of_user(caller.user_id, request_id)
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
    resolved = await resolved_target(session, caller.user_id, target or NotionTarget(), "body")
    save_id = new_id()
    await events.add(
        session,
        caller_event(
            GenerationSaveRequestedV1,
            GenerationSaveRequestedPayload(
                request_id=save_id, source_request_id=request_id, target=resolved
            ),
            caller,
            request,
        ),
    )
    await requests.accept(save_id, caller.user_id, "notion_save")
    accepted = SaveAccepted(
        request_id=save_id, source_request_id=request_id, status_url=f"/v1/requests/{save_id}"
    )
    body = accepted.model_dump(mode="json")
    await remember(session, claim, 202, body)
    await session.commit()
    return JSONResponse(body, status_code=202, headers={"Location": accepted.status_url})
