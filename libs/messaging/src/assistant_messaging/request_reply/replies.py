"""What an answerer sends back: the answer to a query, or its refusal."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from assistant_schemas import Envelope, new_event
from assistant_schemas.queries import QueryFailedPayload, QueryFailedV1

AnswerT = TypeVar("AnswerT", bound=Envelope[Any])


def answer(
    query: Envelope[Any], contract: type[AnswerT], payload: BaseModel, producer: str
) -> AnswerT:
    """The reply to `query`: its correlation id and user, `payload` as `contract`."""
    return new_event(
        contract,
        payload,
        correlation_id=query.correlation_id,
        producer=producer,
        user_id=query.user_id,
    )


def refusal(query: Envelope[Any], status: int, reason: str, producer: str) -> QueryFailedV1:
    """The reply to a query that cannot be answered; `status` is what HTTP should say."""
    return answer(query, QueryFailedV1, QueryFailedPayload(status=status, reason=reason), producer)
