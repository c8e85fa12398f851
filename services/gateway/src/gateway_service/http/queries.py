"""Asking a worker service over request/reply and turning its answer into HTTP."""

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from assistant_messaging.request_reply.requester import ReplyTimeout, Requester
from assistant_schemas import Envelope
from assistant_schemas.queries import QueryFailedV1
from gateway_service.http.problems import Problem, invalid

AnswerT = TypeVar("AnswerT", bound=Envelope[Any])

QUERY_TIMEOUT_S = 10.0
RETRY_AFTER_S = 5


def requester_of(request: Request) -> Requester:
    found: Requester = request.app.state.requester
    return found


async def requester(request: Request) -> Requester:
    return requester_of(request)


Replies = Annotated[Requester, Depends(requester)]


def unavailable(detail: str) -> Problem:
    """A worker service that cannot answer now; clients are told when to try again."""
    problem = Problem(503, "service-unavailable", "Service unavailable", detail)
    problem.headers["Retry-After"] = str(RETRY_AFTER_S)
    return problem


async def ask(replies: Requester, query: Envelope[Any], expected: type[AnswerT]) -> AnswerT:
    """The answer to `query`; a worker's refusal or silence becomes a problem response."""
    try:
        answer = await replies.ask(query, timeout=QUERY_TIMEOUT_S)
    except ReplyTimeout:
        raise unavailable(
            f"no answer to {query.type} within {QUERY_TIMEOUT_S:g}s; try again shortly"
        ) from None
    if isinstance(answer, QueryFailedV1):
        status = answer.payload.status
        if status == 503:
            raise unavailable(answer.payload.reason)
        if status in (400, 422):  # a value of the request: one rule everywhere
            field, _, message = answer.payload.reason.partition(": ")
            raise invalid(field, "invalid", message or field)
        kind = "not-found" if status == 404 else "query-failed"
        raise Problem(status, kind, "Request failed", answer.payload.reason)
    if not isinstance(answer, expected):
        raise Problem(502, "bad-reply", "Bad reply", f"expected {expected.TYPE}, got {answer.type}")
    return answer
