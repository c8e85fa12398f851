"""The envelope every event and message carries, whatever its payload.

A contract is an `Envelope` subclass that pins `type` and `version` with `Literal` fields and
names its payload model. A published contract never changes: a breaking change is a new class
with the next version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from assistant_schemas.ids import new_id

PayloadT = TypeVar("PayloadT", bound=BaseModel)


class Contract(BaseModel):
    """Base for payloads: immutable, and an unknown field is a contract violation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Envelope(Contract, Generic[PayloadT]):
    event_id: uuid.UUID = Field(
        default_factory=new_id, description="Unique id of this event; the idempotency key."
    )
    type: str = Field(description="Event type, `<domain>.<event>`.")
    version: int = Field(ge=1, description="Contract version of `type`.")
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = Field(
        min_length=1, max_length=200, description="Id of the request that started this work."
    )
    user_id: uuid.UUID | None = Field(
        default=None, description="The user the event belongs to; null for system events."
    )
    producer: str = Field(min_length=1, max_length=100, description="Service that emitted it.")
    payload: PayloadT

    # The (type, version) a concrete contract decodes, read from its Literal defaults.
    TYPE: ClassVar[str]
    VERSION: ClassVar[int]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        type_default = cls.model_fields["type"].default
        if isinstance(type_default, str):
            cls.TYPE = type_default
            cls.VERSION = int(cls.model_fields["version"].default)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class ContractError(ValueError):
    """A message does not satisfy its contract; `reason` names each field and the rule broken."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @classmethod
    def from_validation(cls, error: ValidationError) -> ContractError:
        problems = []
        for item in error.errors(include_url=False):
            location = ".".join(str(part) for part in item["loc"]) or "<message>"
            problems.append(f"{location}: {item['msg']}")
        return cls("; ".join(problems))


EventT = TypeVar("EventT", bound=Envelope[Any])


def new_event(
    event_class: type[EventT],
    payload: BaseModel,
    *,
    correlation_id: str,
    producer: str,
    user_id: uuid.UUID | None = None,
) -> EventT:
    """Builds an event of `event_class`, stamping a fresh id and the current time."""
    return event_class(
        type=event_class.TYPE,
        version=event_class.VERSION,
        correlation_id=correlation_id,
        user_id=user_id,
        producer=producer,
        payload=payload,
    )
