"""The one place an unexpected exception becomes an answer.

An exception no handler turned into a problem would reach Starlette's server-error middleware,
which answers a plain-text 500 and then re-raises, and the server closes the connection: the
client's next request on it fails too. Here it becomes a problem document instead, and goes no
further:
- the database unreachable (a restart, an outage): `503` with `Retry-After`;
- a value the database refused (out of range, too many parameters), or a contract an endpoint
  built from the request refused (over 50 collections in a search, say): `422`;
- anything else: `500` naming the request id, never the error: no statement, parameter or stack
  trace ever reaches a response (the log has them).
A response that had already started (a stream) cannot be replaced: that error goes on up.
"""

from __future__ import annotations

import structlog
from fastapi import Request
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant_db.errors import caused_by_input, database_unavailable
from gateway_service.http.problems import problem_response

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 5


class ErrorBoundaryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started:
                raise
            await self._answer(error, scope, receive, send)

    @staticmethod
    async def _answer(error: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if database_unavailable(error):
            log.warning("database unavailable", error=repr(error)[:300])
            response = problem_response(
                request,
                503,
                "service-unavailable",
                "Service unavailable",
                "the database is unreachable; try again shortly",
            )
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
        elif isinstance(error, ValidationError):
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or 'body'}: {item['msg']}"
                for item in error.errors(include_input=False, include_url=False)
            )
            response = problem_response(
                request, 422, "invalid-parameter", "Invalid parameter", problems
            )
        elif caused_by_input(error):
            log.warning("a request's value was refused by the database", error=repr(error)[:300])
            response = problem_response(
                request,
                422,
                "invalid-value",
                "Invalid value",
                "a value in the request cannot be stored or compared (out of range, or too many)",
            )
        else:
            log.exception("unhandled error", exc_info=error)
            request_id = scope.get("state", {}).get("request_id", "unknown")
            response = problem_response(
                request,
                500,
                "internal-error",
                "Internal error",
                f"an internal error occurred; quote request id {request_id} to an operator",
            )
        # Outside the request-context middleware: it did not get to add the id.
        response.headers["X-Request-ID"] = scope.get("state", {}).get("request_id", "")
        await response(scope, receive, send)
