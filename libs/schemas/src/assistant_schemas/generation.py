"""Contracts of the generation domain: a request for content, its stream and its outcome."""

import uuid
from typing import Literal

from pydantic import Field

from assistant_schemas.common import Identifier, ModelName, ProviderName, TokenUsage
from assistant_schemas.envelope import Contract, Envelope


class ChatMessage(Contract):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=2_000_000)


class GenerationParameters(Contract):
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: list[str] = Field(default_factory=list, max_length=4)


class RetrievalOptions(Contract):
    collections: list[Identifier] = Field(default_factory=list, max_length=50)
    top_k: int = Field(default=5, ge=1, le=50)
    mode: Literal["vector", "keyword", "hybrid"] = "hybrid"


class NotionTarget(Contract):
    parent_id: Identifier | None = Field(
        default=None, description="Page or database id; null uses the connection's default."
    )
    parent_type: Literal["page", "database"] | None = None


class Citation(Contract):
    document_id: uuid.UUID
    chunk_id: uuid.UUID
    section: str | None = None
    title: str | None = Field(default=None, description="The title its document gives itself.")
    filename: str | None = Field(default=None, description="Its document's file name.")
    source_url: str | None = Field(
        default=None, description="Where its document came from (its `metadata.source_url`)."
    )


class GenerationRequestedPayload(Contract):
    request_id: uuid.UUID
    conversation_id: uuid.UUID | None = Field(
        default=None,
        description="Continue this conversation of the user, or start it under this id if it "
        "does not exist; null starts one under the request id.",
    )
    provider: ProviderName
    model: ModelName
    messages: list[ChatMessage] = Field(min_length=1, max_length=10_000)
    system_prompt: str | None = Field(default=None, max_length=200_000)
    parameters: GenerationParameters = Field(default_factory=GenerationParameters)
    fallbacks: list[tuple[ProviderName, ModelName]] = Field(default_factory=list, max_length=5)
    stream: bool = False
    rag: RetrievalOptions | None = None
    save_to_notion: NotionTarget | None = None


class GenerationChunkPayload(Contract):
    request_id: uuid.UUID
    sequence: int = Field(ge=0, description="Position of this delta in the stream, from 0.")
    delta: str


class GenerationCompletedPayload(Contract):
    request_id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    provider: ProviderName
    model: ModelName
    content: str
    finish_reason: str | None = None
    usage: TokenUsage
    latency_ms: float = Field(ge=0)
    ttft_ms: float | None = Field(default=None, ge=0)
    citations: list[Citation] = Field(default_factory=list)


class GenerationFailedPayload(Contract):
    request_id: uuid.UUID
    error_class: str = Field(description="Stable name of the failure, e.g. `rate_limited`.")
    message: str
    retryable: bool = Field(description="Whether sending the same request again may succeed.")


class GenerationCancelRequestedPayload(Contract):
    request_id: uuid.UUID
    reason: str = Field(default="client disconnected", max_length=500)


class GenerationSaveRequestedPayload(Contract):
    """Save a finished generation's content to Notion (after the fact; `save_to_notion` on the
    request does it at once). Generation, which holds the content, asks notion_sync."""

    request_id: uuid.UUID = Field(description="The save's own request id: one page per id.")
    source_request_id: uuid.UUID = Field(description="The generation whose content is saved.")
    target: NotionTarget


class GenerationRequestedV1(Envelope[GenerationRequestedPayload]):
    """A user asked for content. Keyed by conversation (or request) id."""

    type: Literal["generation.requested"] = "generation.requested"
    version: Literal[1] = 1


class GenerationChunkV1(Envelope[GenerationChunkPayload]):
    """One streamed token delta, sent as a reply to the gateway instance holding the client."""

    type: Literal["generation.chunk"] = "generation.chunk"
    version: Literal[1] = 1


class GenerationCompletedV1(Envelope[GenerationCompletedPayload]):
    type: Literal["generation.completed"] = "generation.completed"
    version: Literal[1] = 1


class GenerationFailedV1(Envelope[GenerationFailedPayload]):
    type: Literal["generation.failed"] = "generation.failed"
    version: Literal[1] = 1


class GenerationCancelRequestedV1(Envelope[GenerationCancelRequestedPayload]):
    """Stop a running generation (its client went away). Every generation instance reads it;
    the one running the request cancels the provider call."""

    type: Literal["generation.cancel_requested"] = "generation.cancel_requested"
    version: Literal[1] = 1


class GenerationSaveRequestedV1(Envelope[GenerationSaveRequestedPayload]):
    type: Literal["generation.save_requested"] = "generation.save_requested"
    version: Literal[1] = 1
