"""`POST /v1/generations`: asynchronous (202), synchronous (`Prefer: wait`), or streamed (SSE)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from assistant_db import driver_connection
from assistant_messaging.request_reply import ReplyStream, ReplyTimeout, Requester
from assistant_schemas.generation import (
    GenerationChunkV1,
    GenerationCompletedV1,
    GenerationParameters,
    NotionTarget,
)
from assistant_schemas.notion import save_request_id
from gateway_service.admission.dependencies import (
    AdmittingAcceptor,
    admission_of,
    admissions_of,
    admitted,
)
from gateway_service.admission.gate import Query
from gateway_service.auth.callers import Caller
from gateway_service.generations.cancellation import cancel_in_background
from gateway_service.generations.catalog import CatalogView
from gateway_service.generations.outcomes import (
    StreamBroken,
    failure_problem,
    replies,
    silence_problem,
)
from gateway_service.generations.schemas import Accepted, GenerationIn, GenerationOut
from gateway_service.generations.sse import SSE_HEADERS, sse
from gateway_service.generations.submission import Draft, checked, commit, publish
from gateway_service.http.dependencies import (
    BEARER_SECURITY,
    acceptances,
    presented_credential,
    sessions_of,
)
from gateway_service.http.direct_route import DirectRoute
from gateway_service.http.error_docs import errors, event_stream, idempotent
from gateway_service.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway_service.http.idempotency import claim_or_replay, remember
from gateway_service.http.queries import requester_of
from gateway_service.notion.saves import resolved_target
from gateway_service.requests.acceptance import Acceptor, InTransaction

# Its one endpoint is called directly with its validated body (`http.direct_route`).
router = APIRouter(prefix="/v1/generations", tags=["generations"], route_class=DirectRoute)

MAX_WAIT_S = 300
PREFER_WAIT = re.compile(r"(?:^|[;,\s])wait=(\d+|true)\b", re.IGNORECASE)

FAMILY, SCOPE = "generation", "generate"
GenerationCaller = Annotated[Caller, Depends(admitted(FAMILY, scope=SCOPE, budget=True))]


def requested_wait(request: Request) -> int | None:
    """Seconds the client will wait (`Prefer: wait=N` or `wait=true`, bounded); None: async."""
    found = PREFER_WAIT.search(request.headers.get("Prefer", ""))
    if not found:
        return None
    value = found.group(1).lower()
    return MAX_WAIT_S if value == "true" else min(int(value), MAX_WAIT_S)


def catalog_view(request: Request) -> CatalogView:
    view: CatalogView = request.app.state.catalog
    return view


def draft_of(body: GenerationIn, save_to_notion: NotionTarget | None) -> Draft:
    return Draft(
        provider=body.provider,
        model=body.model,
        messages=body.chat(),
        system_prompt=body.system_prompt,
        parameters=GenerationParameters(
            temperature=body.temperature,
            max_tokens=body.max_tokens,
            top_p=body.top_p,
            stop=body.stop,
        ),
        fallbacks=body.fallbacks,
        conversation_id=body.conversation_id,
        stream=body.stream,
        save_to_notion=save_to_notion,
        rag=body.rag,
    )


@router.post(
    "",
    status_code=202,
    summary="Generate content: 202 with a status URL, `Prefer: wait=N` to wait, or stream",
    responses={
        200: {
            "model": GenerationOut,
            "description": "Finished within `Prefer: wait`; or, with `stream`, the answer as "
            "server-sent events (`start`, `delta`..., then `done` or `error`).",
            "content": event_stream('event: delta\ndata: {"sequence": 0, "text": "Hi"}'),
        },
        202: {"model": Accepted, "description": "Accepted; follow `status_url`."},
        **errors(400, 402, 404, 409, 429, 502, 504),
    },
    openapi_extra=idempotent(BEARER_SECURITY),
)
async def create_generation(body: GenerationIn, request: Request) -> Response:
    # Nothing is resolved by FastAPI (`http.direct_route` says why): the credential and the
    # rest are read from the request and the app's state.
    query = Query(await presented_credential(request), FAMILY, SCOPE, check_budget=True)
    wait = requested_wait(request)
    reply_reader = requester_of(request)
    # A stream or a wait cannot be replayed; an acceptance can.
    replayable = not body.stream and wait is None and IDEMPOTENCY_HEADER in request.headers
    if not replayable and body.save_to_notion is None:
        # The common case needs no session: its one write is a single statement, which also
        # admits the request when its user is known before it (`admission.gate`) and nothing
        # is to be asked on the user's behalf first (a conversation of theirs).
        user_id = admissions_of(request).user_of(query.credential)
        if user_id is not None and not body.stream and wait is None and not body.conversation_id:
            acceptor: Acceptor = AdmittingAcceptor(query, request)
        else:
            user_id = (await admission_of(query, request)).user_id
            acceptor = acceptances(request)
        accepted, stream = await submitted(
            body, None, user_id, request, acceptor, reply_reader, wait
        )
        return await answered(body, accepted, stream, wait, user_id, request)
    caller = await admission_of(query, request)
    async with sessions_of(request)() as session:
        claim = None
        if replayable:
            found = await claim_or_replay(session, caller, request)
            if isinstance(found, JSONResponse):
                return found
            claim = found
        save_to_notion = None
        if body.save_to_notion is not None:
            save_to_notion = await resolved_target(
                session, caller, body.save_to_notion, "save_to_notion"
            )
        # The session's own connection: the acceptance joins the claim's transaction.
        acceptor = InTransaction(await driver_connection(session))
        accepted, stream = await submitted(
            body, save_to_notion, caller.user_id, request, acceptor, reply_reader, wait
        )
        if claim is not None:
            await remember(session, claim, 202, accepted.model_dump(mode="json"))
        await commit(session, stream)
    return await answered(body, accepted, stream, wait, caller.user_id, request)


async def submitted(
    body: GenerationIn,
    save_to_notion: NotionTarget | None,
    user_id: uuid.UUID,
    request: Request,
    acceptor: Acceptor,
    reply_reader: Requester,
    wait: int | None,
) -> tuple[Accepted, ReplyStream | None]:
    """Checks and accepts the generation; the stream of its outcome if the client waits."""
    waiting = body.stream or wait is not None
    catalog = await catalog_view(request).current()
    payload = await checked(draft_of(body, save_to_notion), catalog, reply_reader, user_id, request)
    accepted = Accepted(
        request_id=payload.request_id,
        conversation_id=payload.conversation_id or payload.request_id,
        status_url=f"/v1/requests/{payload.request_id}",
        notion_request_id=save_request_id(payload.request_id) if save_to_notion else None,
    )
    replies = reply_reader if waiting else None
    _, stream = await publish(acceptor, user_id, request, payload, replies)
    return accepted, stream


async def answered(
    body: GenerationIn,
    accepted: Accepted,
    stream: ReplyStream | None,
    wait: int | None,
    user_id: uuid.UUID,
    request: Request,
) -> Response:
    """202 with the status URL, the outcome within the wait, or the stream of it."""
    headers = {"Location": accepted.status_url}
    if stream is None:
        return Response(accepted.model_dump_json(), 202, headers, media_type="application/json")
    if body.stream:
        return StreamingResponse(
            streamed(stream, accepted, user_id, request),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
        )
    assert wait is not None
    return await waited(stream, accepted, wait, headers)


async def waited(
    stream: ReplyStream, accepted: Accepted, wait: int, headers: dict[str, str]
) -> Response:
    headers["Preference-Applied"] = f"wait={wait}"
    with stream:
        try:
            async with asyncio.timeout(wait):
                async for reply in replies(stream, first_timeout=wait):
                    if isinstance(reply, GenerationCompletedV1):
                        out = GenerationOut.of(reply.payload)
                        return JSONResponse(out.model_dump(mode="json"), headers=headers)
                    if not isinstance(reply, GenerationChunkV1):
                        problem = failure_problem(reply.payload)
                        problem.headers.update(headers)
                        raise problem
        except (TimeoutError, ReplyTimeout, StreamBroken):
            pass  # not done within the wait: the client follows the status URL
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)


async def streamed(
    stream: ReplyStream, accepted: Accepted, user_id: uuid.UUID, request: Request
) -> AsyncIterator[bytes]:
    finished = False
    try:
        yield sse(accepted.model_dump(mode="json"), "start")
        async for reply in replies(stream):
            if isinstance(reply, GenerationChunkV1):
                yield sse(
                    {"sequence": reply.payload.sequence, "text": reply.payload.delta}, "delta"
                )
                continue
            finished = True
            if isinstance(reply, GenerationCompletedV1):
                yield sse(GenerationOut.of(reply.payload).model_dump(mode="json"), "done")
            else:
                yield sse(failure_problem(reply.payload).document(), "error")
    except (ReplyTimeout, StreamBroken) as error:
        yield sse(silence_problem(error).document(), "error")
    finally:
        stream.close()
        if not finished:  # the client left (or the stream broke): stop the provider call
            cancel_in_background(request.app, user_id, accepted.request_id)
