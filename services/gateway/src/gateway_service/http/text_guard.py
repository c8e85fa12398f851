"""Refuses text PostgreSQL's `text` cannot hold — the NUL character — wherever a request carries
it (path, query string, JSON body), with a 422 naming the field, before any endpoint runs.

Without this a NUL travels on: into an event that every consumer then fails to store, or into
a statement whose error would be the answer. Lone surrogates need no check here: the JSON
parser refuses them, and a URL cannot encode one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_service.http.asgi_body import replay
from gateway_service.http.problems import problem_response

_ESCAPED_NUL = b"\\u0000"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TextGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _nul_in_url(scope)
        if field is None and scope["method"] in _BODY_METHODS and _is_json(scope):
            messages = await _read_body(receive)
            body = b"".join(m.get("body", b"") for m in messages)
            if _ESCAPED_NUL in body:
                field = _nul_in_json(body)
            receive = replay(messages, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            Request(scope),
            422,
            "validation-error",
            "Invalid request",
            f"{field}: text must not contain the NUL character (\\u0000)",
            errors=[{"field": field, "rule": "string_nul", "message": "contains NUL (\\u0000)"}],
        )
        await response(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return b"json" in content_type


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query.lower() and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return "query"


def _nul_in_json(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the endpoint's validation says so
    return nul_path(document)


def nul_path(document: Any) -> str | None:
    """Where in a parsed JSON document the first string holding NUL is (`a.0.b`), if any."""
    return next(_nul_paths(document, ()), None)


def _nul_paths(value: Any, path: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_paths(key, (*path, "<key>"))
            yield from _nul_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, str(index)))


async def _read_body(receive: Receive) -> list[Message]:
    """The request's body messages (the body limit, outside this, has bounded them)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages
