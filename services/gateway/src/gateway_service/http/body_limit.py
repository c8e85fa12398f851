"""Refuses request bodies over a size limit before the application reads them: by the declared
Content-Length when there is one; otherwise the body is buffered, up to the limit and no
further, and replayed to the application."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_service.http.asgi_body import replay
from gateway_service.http.problems import PROBLEM_JSON, TYPE_BASE


class BodyLimitMiddleware:
    """`max_bytes` for every path, except those under a prefix of `larger` (uploads), which
    have their own limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next(
            (size for prefix, size in self.larger.items() if scope["path"].startswith(prefix)),
            self.max_bytes,
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        buffered = await self._buffer(receive, limit)
        if buffered is None:
            await self._refuse(scope, send, limit)
            return
        await self.app(scope, replay(buffered, receive), send)

    @staticmethod
    async def _buffer(receive: Receive, limit: int) -> list[Message] | None:
        """The body's messages, or None once they exceed the limit."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > limit:
                return None
            if not message.get("more_body", False):
                return messages

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": TYPE_BASE + "body-too-large",
                "title": "Request body too large",
                "status": 413,
                "instance": scope["path"],
                "detail": f"the body exceeds {limit} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
