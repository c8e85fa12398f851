from pydantic import BaseModel, Field

from gateway_service.accounts.schemas import Body


class DeadLetterOut(BaseModel):
    """A record set aside for good, with why, and its bytes to inspect."""

    partition: int
    offset: int
    original_topic: str
    original_partition: int
    original_offset: int
    attempt: int = Field(description="The attempts it had before it was set aside.")
    error: str
    first_failure_at: str
    event_type: str | None
    event_id: str | None
    size_bytes: int
    value: str = Field(description="Its bytes as text (undecodable bytes replaced), at most 4 KB.")


class RecordRef(Body):
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class RedriveIn(Body):
    records: list[RecordRef] = Field(min_length=1, max_length=1000)


class Redriven(BaseModel):
    redriven: int
