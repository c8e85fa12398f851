"""Contract for a unit of billable usage: an LLM call, an embedding batch, Notion API calls."""

import uuid
from typing import Literal

from pydantic import Field

from assistant_schemas.common import ModelName, ProviderName, TokenCount
from assistant_schemas.envelope import Contract, Envelope


class UsageRecordedPayload(Contract):
    request_id: uuid.UUID
    usage_type: Literal["llm", "embedding", "notion_api"]
    call_index: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Which billed call of the request this is (a fallback makes a second one); "
        "request id, usage type and call index name one unit of usage.",
    )
    provider: ProviderName
    model: ModelName
    input_tokens: TokenCount = 0
    output_tokens: TokenCount = 0
    cached_tokens: TokenCount = 0
    reasoning_tokens: TokenCount = 0
    embedding_tokens: TokenCount = 0
    api_calls: int = Field(default=0, ge=0, le=1_000_000)
    latency_ms: float | None = Field(default=None, ge=0)
    ttft_ms: float | None = Field(default=None, ge=0)


class UsageRecordedV1(Envelope[UsageRecordedPayload]):
    """Keyed by user id, so one consumer is the single writer of a user's totals."""

    type: Literal["usage.recorded"] = "usage.recorded"
    version: Literal[1] = 1
