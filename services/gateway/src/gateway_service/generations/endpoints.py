"""`POST /v1/generations`: asynchronous (202), synchronous (`Prefer: wait`), or streamed (SSE)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from assistant_messaging.request_reply.requester import ReplyStream, ReplyTimeout
from assistant_schemas.generation import (
    GenerationChunkV1,
    GenerationCompletedV1,
    GenerationParameters,
)
from gateway_service.generations.cancellation import cancel_in_background
from gateway_service.generations.outcomes import (
    StreamBroken,
    failure_problem,
    replies,
    silence_problem,
)
from gateway_service.generations.schemas import Accepted, GenerationIn, GenerationOut
from gateway_service.generations.service import Draft, Submitted, submit
from gateway_service.generations.sse import SSE_HEADERS, sse
from gateway_service.http.dependencies import BEARER_SECURITY, presented_credential
from gateway_service.http.direct_route import DirectRoute
from gateway_service.http.error_docs import errors, event_stream, idempotent

# Its one endpoint is called directly with its validated body (`http.direct_route`).
router = APIRouter(prefix="/v1/generations", tags=["generations"], route_class=DirectRoute)

MAX_WAIT_S = 300
PREFER_WAIT = re.compile(r"(?:^|[;,\s])wait=(\d+|true)\b", re.IGNORECASE)


def requested_wait(request: Request) -> int | None:
    """Seconds the client will wait (`Prefer: wait=N` or `wait=true`, bounded); None: async."""
    found = PREFER_WAIT.search(request.headers.get("Prefer", ""))
    if not found:
        return None
    value = found.group(1).lower()
    return MAX_WAIT_S if value == "true" else min(int(value), MAX_WAIT_S)


def draft_of(body: GenerationIn) -> Draft:
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
        save_to_notion=body.save_to_notion,
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
    credential = await presented_credential(request)
    wait = requested_wait(request)
    submitted = await submit(
        draft_of(body), credential, request, waiting=body.stream or wait is not None
    )
    if not isinstance(submitted, Submitted):
        return submitted  # the answer stored under its Idempotency-Key
    accepted, stream = submitted.accepted, submitted.stream
    headers = {"Location": accepted.status_url}
    if stream is None:
        return Response(accepted.model_dump_json(), 202, headers, media_type="application/json")
    if body.stream:
        return StreamingResponse(
            streamed(stream, accepted, submitted.user_id, request),
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
