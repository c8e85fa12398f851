"""The body of `POST /v1/generations` and what it answers."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import ChatMessage, Citation, NotionTarget, RetrievalOptions

DEFAULT_PROVIDER = "mock"
DEFAULT_MODEL = "mock-1"


class GenerationIn(BaseModel):
    """Send either `prompt` (one user turn) or `messages` (with at least one `user` message),
    not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["prompt"]}, {"required": ["messages"]}]},
    )

    prompt: str | None = Field(default=None, min_length=1, max_length=400_000)
    messages: list[ChatMessage] | None = Field(default=None, min_length=1, max_length=1000)
    provider: str = Field(default=DEFAULT_PROVIDER, max_length=64)
    model: str = Field(default=DEFAULT_MODEL, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: list[str] = Field(default_factory=list, max_length=4)
    fallbacks: list[str] = Field(
        default_factory=list,
        max_length=5,
        description='Tried in order on 429, 5xx or timeouts: "provider/model".',
    )
    conversation_id: uuid.UUID | None = None
    stream: bool = False
    rag: RetrievalOptions | None = None
    save_to_notion: NotionTarget | None = None

    @model_validator(mode="after")
    def _prompt_or_messages(self) -> GenerationIn:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("send either `prompt` or `messages`")
        if self.messages is not None and not any(m.role == "user" for m in self.messages):
            raise ValueError("messages: at least one message must have the role `user`")
        if self.messages is not None and any(not m.content.strip() for m in self.messages):
            raise ValueError("messages: a message's content is empty")
        if self.prompt is not None and not self.prompt.strip():
            raise ValueError("prompt: is empty")
        return self

    def chat(self) -> list[ChatMessage]:
        return self.messages or [ChatMessage(role="user", content=self.prompt or "")]


class Accepted(BaseModel):
    request_id: uuid.UUID
    conversation_id: uuid.UUID
    status: Literal["accepted"] = "accepted"
    status_url: str
    notion_request_id: uuid.UUID | None = Field(
        default=None, description="The Notion save's own request, with `save_to_notion`."
    )


class SaveAccepted(BaseModel):
    """A Notion save of a finished generation, accepted; follow `status_url`."""

    request_id: uuid.UUID
    source_request_id: uuid.UUID
    status: Literal["accepted"] = "accepted"
    status_url: str


class GenerationOut(BaseModel):
    request_id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    status: Literal["succeeded"] = "succeeded"
    provider: str
    model: str
    content: str
    finish_reason: str | None
    usage: TokenUsage
    latency_ms: int = Field(description="The whole answer, in whole milliseconds.")
    ttft_ms: int | None = Field(description="To the first token, in whole milliseconds.")
    citations: list[Citation] = Field(
        default_factory=list,
        description="The sources given to the model, with `rag`: [n] is the n-th.",
    )

    @classmethod
    def of(cls, payload: Any) -> GenerationOut:
        values = {name: getattr(payload, name) for name in cls.model_fields if name != "status"}
        # Measured to the microsecond; a reader needs milliseconds.
        values["latency_ms"] = round(payload.latency_ms)
        values["ttft_ms"] = None if payload.ttft_ms is None else round(payload.ttft_ms)
        return cls(**values)
