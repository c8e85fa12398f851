"""A fake LLM upstream speaking OpenAI Chat Completions and Anthropic Messages, JSON and SSE.

The model name chooses the behaviour, so one server plays every scenario:

- any name: answers `ANSWER` word by word (`token_delay_s` apart, after `first_token_delay_s`)
- `fail-500` / `overloaded-529` / `bad-400`: that error, every time
- `limited-once`: 429 with `Retry-After: 1` the first time a prompt is seen, then answers
- `slow-first-token`: waits 30 s before its first token
- `slow-stream`: 200 words, 0.1 s apart (for disconnects and crashes mid-stream)
- `paced-<N>x<D>ms` (e.g. `paced-300x30ms`): N words, D ms apart, as a real model streams

`POST /v1/embeddings` answers hashed bag-of-words vectors (each word adds ±1 to one of
`dimensions` places, 64 unless asked; unit length): texts that share words are near, so search
over them behaves, deterministically and without a model.

It requires a key (`Authorization: Bearer …` for OpenAI; `x-api-key` or a bearer token for
Anthropic) and answers 401 without. `GET /_calls` lists what it received; `GET /_aborted`
counts streams whose client went away before the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import re
import struct
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ANSWER = "Hello from the fake upstream: every word of this answer arrives as its own token."


@dataclass
class FakeState:
    first_token_delay_s: float = 0.0
    token_delay_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    seen_prompts: set[str] = field(default_factory=set)
    aborted: int = 0


PACED = re.compile(r"paced-(\d{1,5})x(\d{1,4})ms")


def _words(model: str) -> list[str]:
    if model == "slow-stream":
        return [f"w{i}" for i in range(200)]
    if paced := PACED.fullmatch(model):
        return [f"w{i}" for i in range(int(paced[1]))]
    return ANSWER.split()


def _token_delay_s(model: str, default_s: float) -> float:
    if model == "slow-stream":
        return 0.1
    if paced := PACED.fullmatch(model):
        return int(paced[2]) / 1000
    return default_s


def hashed_embedding(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        place = int.from_bytes(digest[:4], "big") % dimensions
        vector[place] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _prompt_tokens(messages: list[dict[str, Any]], system: str | None) -> int:
    text = " ".join(str(m.get("content", "")) for m in messages) + (system or "")
    return max(1, len(text) // 4)


class FakeLLM:
    def __init__(self, state: FakeState | None = None) -> None:
        self.state = state or FakeState()
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.openai, methods=["POST"]),
                Route("/v1/messages", self.anthropic, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/_calls", self.calls),
                Route("/_aborted", self.aborted),
            ]
        )

    async def calls(self, _: Request) -> JSONResponse:
        return JSONResponse(self.state.calls)

    async def aborted(self, _: Request) -> JSONResponse:
        return JSONResponse({"aborted": self.state.aborted})

    def _failure(self, model: str, prompt: str, anthropic: bool) -> Response | None:
        def error(status: int, kind: str, message: str, **headers: str) -> Response:
            body: dict[str, Any] = (
                {"type": "error", "error": {"type": kind, "message": message}}
                if anthropic
                else {"error": {"message": message, "type": kind, "code": None, "param": None}}
            )
            return JSONResponse(body, status_code=status, headers=headers)

        if model == "fail-500":
            return error(500, "api_error", "the fake upstream is failing on purpose")
        if model == "overloaded-529":
            return error(529, "overloaded_error", "Overloaded")
        if model == "bad-400":
            return error(400, "invalid_request_error", "the fake upstream rejects this request")
        if model == "limited-once" and prompt not in self.state.seen_prompts:
            self.state.seen_prompts.add(prompt)
            return error(429, "rate_limit_error", "slow down", **{"Retry-After": "1"})
        return None

    def _record(self, request: Request, body: dict[str, Any], api: str) -> None:
        self.state.calls.append(
            {
                "api": api,
                "at": time.time(),
                "model": body.get("model"),
                "messages": body.get("messages"),
                "system": body.get("system"),
                "max_tokens": body.get("max_tokens"),
                "stream": body.get("stream", False),
                "authorization": request.headers.get("authorization"),
                "x_api_key": request.headers.get("x-api-key"),
            }
        )

    async def _tokens(self, model: str) -> AsyncIterator[str]:
        first = 30.0 if model == "slow-first-token" else self.state.first_token_delay_s
        delay = _token_delay_s(model, self.state.token_delay_s)
        if first:
            await asyncio.sleep(first)
        for index, word in enumerate(_words(model)):
            if index and delay:
                await asyncio.sleep(delay)
            yield word if index == 0 else " " + word

    # --- OpenAI embeddings ---------------------------------------------------------------------

    async def embeddings(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse(
                {"error": {"message": "no API key", "type": "invalid_request_error"}}, 401
            )
        body = await request.json()
        self._record(request, body, "embeddings")
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        dimensions = int(body.get("dimensions") or 64)
        vectors = [hashed_embedding(text, dimensions) for text in texts]

        def encoded(vector: list[float]) -> Any:
            if body.get("encoding_format") == "base64":  # what the openai SDK asks for
                return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            return vector

        tokens = sum(len(text.split()) for text in texts)
        return JSONResponse(
            {
                "object": "list",
                "model": body["model"],
                "data": [
                    {"object": "embedding", "index": i, "embedding": encoded(v)}
                    for i, v in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # --- OpenAI Chat Completions ------------------------------------------------------------

    async def openai(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse(
                {"error": {"message": "no API key", "type": "invalid_request_error"}}, 401
            )
        body = await request.json()
        self._record(request, body, "openai")
        model = str(body.get("model"))
        messages = body.get("messages", [])
        failure = self._failure(model, json.dumps(messages), anthropic=False)
        if failure is not None:
            return failure
        prompt_tokens = _prompt_tokens(messages, None)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        if not body.get("stream"):
            words = [word async for word in self._tokens(model)]
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(words)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(words),
                        "total_tokens": prompt_tokens + len(words),
                    },
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def events() -> AsyncIterator[bytes]:
            def chunk(choices: list[Any], **extra: Any) -> bytes:
                data = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": choices,
                    **extra,
                }
                return f"data: {json.dumps(data)}\n\n".encode()

            count = 0
            finished = False
            try:
                yield chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
                async for word in self._tokens(model):
                    count += 1
                    yield chunk([{"index": 0, "delta": {"content": word}, "finish_reason": None}])
                yield chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
                if include_usage:
                    usage = {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": count,
                        "total_tokens": prompt_tokens + count,
                        "prompt_tokens_details": {"cached_tokens": 0},
                    }
                    yield chunk([], usage=usage)
                yield b"data: [DONE]\n\n"
                finished = True
            finally:
                if not finished:
                    self.state.aborted += 1

        return StreamingResponse(events(), media_type="text/event-stream")

    # --- Anthropic Messages ----------------------------------------------------------------

    async def anthropic(self, request: Request) -> Response:
        if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
            return JSONResponse(
                {"type": "error", "error": {"type": "authentication_error", "message": "no key"}},
                401,
            )
        body = await request.json()
        self._record(request, body, "anthropic")
        model = str(body.get("model"))
        messages = body.get("messages", [])
        failure = self._failure(model, json.dumps(messages), anthropic=True)
        if failure is not None:
            return failure
        prompt_tokens = _prompt_tokens(messages, body.get("system"))
        message_id = f"msg_{uuid.uuid4().hex}"
        message: dict[str, Any] = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": 1},
        }
        if not body.get("stream"):
            words = [word async for word in self._tokens(model)]
            message["content"] = [{"type": "text", "text": "".join(words)}]
            message["stop_reason"] = "end_turn"
            message["usage"] = {"input_tokens": prompt_tokens, "output_tokens": len(words)}
            return JSONResponse(message)

        async def events() -> AsyncIterator[bytes]:
            def event(kind: str, data: dict[str, Any]) -> bytes:
                return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

            count = 0
            finished = False
            try:
                yield event("message_start", {"message": message})
                yield event(
                    "content_block_start",
                    {"index": 0, "content_block": {"type": "text", "text": ""}},
                )
                async for word in self._tokens(model):
                    count += 1
                    yield event(
                        "content_block_delta",
                        {"index": 0, "delta": {"type": "text_delta", "text": word}},
                    )
                yield event("content_block_stop", {"index": 0})
                yield event(
                    "message_delta",
                    {
                        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                        "usage": {"output_tokens": count},
                    },
                )
                yield event("message_stop", {})
                finished = True
            finally:
                if not finished:
                    self.state.aborted += 1

        return StreamingResponse(events(), media_type="text/event-stream")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-token-delay-ms", type=float, default=0)
    parser.add_argument("--token-delay-ms", type=float, default=0)
    options = parser.parse_args()
    state = FakeState(options.first_token_delay_ms / 1000, options.token_delay_ms / 1000)
    uvicorn.run(FakeLLM(state).app, host="127.0.0.1", port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
