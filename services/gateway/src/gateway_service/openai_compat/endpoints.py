"""The OpenAI-compatible face: `POST /v1/chat/completions` and `GET /v1/models`.

The official `openai` SDK works unchanged with `base_url` set to the gateway and a gateway API
key as its key. Models are named `provider/model`, or by a bare name one provider alone serves.
Errors come in OpenAI's shape (see `http.problems`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from assistant_messaging.request_reply.requester import ReplyStream, ReplyTimeout
from assistant_schemas.generation import (
    ChatMessage,
    GenerationChunkV1,
    GenerationCompletedPayload,
    GenerationCompletedV1,
    GenerationParameters,
)
from gateway_service.auth.callers import Caller
from gateway_service.generations.cancellation import cancel_in_background
from gateway_service.generations.endpoints import MAX_WAIT_S
from gateway_service.generations.outcomes import (
    StreamBroken,
    failure_problem,
    replies,
    silence_problem,
)
from gateway_service.generations.service import Draft, Submitted, catalog_of, submit
from gateway_service.generations.sse import SSE_HEADERS, sse
from gateway_service.http.dependencies import BEARER_SECURITY, presented_credential, scoped
from gateway_service.http.error_docs import errors, event_stream
from gateway_service.http.problems import Problem, invalid, openai_error
from gateway_service.openai_compat.schemas import ChatCompletionIn, ListedModel, ModelList, Pricing

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def draft_of(body: ChatCompletionIn) -> Draft:
    system = [m.text() for m in body.messages if m.role in ("system", "developer")]
    chat = [
        ChatMessage(role=m.role, content=m.text())
        for m in body.messages
        if m.role in ("user", "assistant")
    ]
    if not any(m.role == "user" for m in chat):
        raise invalid("messages", "user_message", "at least one message must be from the user", 400)
    stop = [body.stop] if isinstance(body.stop, str) else body.stop or []
    if len(stop) > 4:
        raise invalid("stop", "max_items", "at most 4 stop sequences", 400)
    return Draft(
        provider=None,  # resolved from the name
        model=body.model,
        messages=chat,
        system_prompt="\n\n".join(system) or None,
        parameters=GenerationParameters(
            temperature=body.temperature,
            top_p=body.top_p,
            max_tokens=body.max_completion_tokens or body.max_tokens,
            stop=stop,
        ),
        fallbacks=[],
        conversation_id=None,
        stream=body.stream,
    )


@router.post(
    "/chat/completions",
    summary="OpenAI Chat Completions (stream or not), answered through this system",
    responses={
        200: {"content": event_stream('data: {"object": "chat.completion.chunk", ...}')},
        **errors(402, 404, 429, 502, 504),
    },
    openapi_extra=BEARER_SECURITY,
)
async def chat_completions(body: ChatCompletionIn, request: Request) -> Response:
    submitted = await submit(
        draft_of(body), await presented_credential(request), request, waiting=True
    )
    assert isinstance(submitted, Submitted)  # no Idempotency-Key replays when waiting
    assert submitted.stream is not None
    request_id = submitted.accepted.request_id
    completion_id = f"chatcmpl-{request_id.hex}"
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            chunks(
                submitted.stream,
                completion_id,
                body.model,
                include_usage,
                submitted.user_id,
                request,
                request_id,
            ),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    return await completion(submitted.stream, completion_id, body.model)


def _usage(payload: GenerationCompletedPayload) -> dict[str, Any]:
    usage = payload.usage
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


async def completion(stream: ReplyStream, completion_id: str, model: str) -> Response:
    with stream:
        try:
            async for reply in replies(stream, first_timeout=MAX_WAIT_S):
                if isinstance(reply, GenerationCompletedV1):
                    return JSONResponse(
                        {
                            "id": completion_id,
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": model,
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {
                                        "role": "assistant",
                                        "content": reply.payload.content,
                                    },
                                    "finish_reason": _finish(reply.payload.finish_reason),
                                    "logprobs": None,
                                }
                            ],
                            "usage": _usage(reply.payload),
                        }
                    )
                if not isinstance(reply, GenerationChunkV1):
                    raise failure_problem(reply.payload)
        except (ReplyTimeout, StreamBroken) as error:
            raise silence_problem(error) from None
    raise AssertionError("replies ended without an outcome")


def _finish(reason: str | None) -> str:
    """OpenAI's finish reasons; Anthropic says `end_turn`/`max_tokens`."""
    return {"end_turn": "stop", "max_tokens": "length", "stop_sequence": "stop"}.get(
        reason or "stop", reason or "stop"
    )


async def chunks(
    stream: ReplyStream,
    completion_id: str,
    model: str,
    include_usage: bool,
    user_id: uuid.UUID,
    request: Request,
    request_id: uuid.UUID,
) -> AsyncIterator[bytes]:
    created = int(time.time())

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        return sse(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices if delta is not None else [],
                **extra,
            }
        )

    finished = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        async for reply in replies(stream):
            if isinstance(reply, GenerationChunkV1):
                yield chunk({"content": reply.payload.delta})
                continue
            finished = True
            if isinstance(reply, GenerationCompletedV1):
                yield chunk({}, _finish(reply.payload.finish_reason))
                if include_usage:
                    yield chunk(None, usage=_usage(reply.payload))
            else:
                yield _error(failure_problem(reply.payload))
    except (ReplyTimeout, StreamBroken) as error:
        yield _error(silence_problem(error))
    finally:
        stream.close()
        if not finished:
            cancel_in_background(request.app, user_id, request_id)
    if finished:
        yield sse("[DONE]")


def _error(problem: Problem) -> bytes:
    body = openai_error(problem.status, problem.kind, problem.detail).body
    return sse(bytes(body).decode())


CatalogReader = Annotated[Caller, Depends(scoped("generate"))]


@router.get("/models", summary="The model catalogue, in OpenAI's list shape")
async def list_models(
    _caller: CatalogReader,
    request: Request,
) -> ModelList:
    catalog = await catalog_of(request).current()
    labels = {p.name: p for p in catalog.providers if p.enabled}
    return ModelList(
        data=[
            ListedModel(
                id=f"{m.provider}/{m.model}",
                owned_by=m.provider,
                context_window=m.context_window,
                max_output_tokens=m.max_output_tokens,
                pricing=Pricing(
                    input_per_million=str(m.input_price), output_per_million=str(m.output_price)
                ),
                mock=labels[m.provider].api_style == "mock",
            )
            for m in catalog.models
            if m.enabled and m.provider in labels
        ]
    )
