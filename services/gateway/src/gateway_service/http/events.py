"""Events a request causes: its correlation id is the request's id, its user the caller."""

import uuid

from fastapi import Request
from pydantic import BaseModel

from assistant_schemas import new_event
from assistant_schemas.envelope import EventT
from gateway_service.auth.callers import Caller


def caller_event(
    contract: type[EventT], payload: BaseModel, caller: Caller, request: Request
) -> EventT:
    return user_event(contract, payload, caller.user_id, request)


def user_event(
    contract: type[EventT], payload: BaseModel, user_id: uuid.UUID, request: Request
) -> EventT:
    return new_event(
        contract,
        payload,
        correlation_id=request.state.request_id,
        producer="gateway",
        user_id=user_id,
    )
