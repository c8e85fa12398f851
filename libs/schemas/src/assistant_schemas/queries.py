"""Request/reply pairs: queries the gateway asks a worker service and the answers it waits for.

A query travels on its domain's query topic; the answer goes to the exact gateway instance that
asked (its reply address is in the message headers, not here). A worker that cannot answer
replies with `QueryFailedV1` instead of staying silent.
"""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from assistant_schemas.common import Identifier, TokenUsage, Usd
from assistant_schemas.envelope import Contract, Envelope
from assistant_schemas.generation import Citation

# --- search (ingestion) ---------------------------------------------------------------------


class SearchQueryPayload(Contract):
    query: str = Field(min_length=1, max_length=4000)
    collections: list[Identifier] = Field(default_factory=list, max_length=50)
    filters: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=20)
    top_k: int = Field(default=10, ge=1, le=100)
    mode: Literal["vector", "keyword", "hybrid"] = "hybrid"


class SearchHit(Contract):
    document_id: uuid.UUID
    chunk_id: uuid.UUID
    text: str
    section: str | None = Field(
        default=None, description="Its heading path, under the document's title: `A > B > C`."
    )
    score: float
    highlight: str | None = Field(
        default=None,
        description="HTML: the text around the matched words, escaped, each match in `<b>`.",
    )
    title: str | None = Field(default=None, description="The title its document gives itself.")
    filename: str | None = Field(default=None, description="Its document's file name.")
    source_url: str | None = Field(
        default=None, description="Where its document came from (its `metadata.source_url`)."
    )


class SearchResultPayload(Contract):
    hits: list[SearchHit]


# --- documents (ingestion) ------------------------------------------------------------------


class DocumentsQueryPayload(Contract):
    """List the caller's documents, or change one's metadata or collection (no re-embedding)."""

    action: Literal["list", "update"]
    document_id: uuid.UUID | None = Field(default=None, description="With `update`.")
    status: Literal["processing", "ingested", "failed"] | None = None
    content_type: str | None = Field(default=None, max_length=200)
    collection: Identifier | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=20, ge=1, le=100)
    metadata: dict[str, Any] | None = Field(default=None, description="With `update`: replaces.")
    new_collection: Identifier | None = Field(default=None, description="With `update`.")


class DocumentSummary(Contract):
    document_id: uuid.UUID
    filename: str
    title: str | None = Field(default=None, description="The title it gives itself, if any.")
    content_type: str
    collection: str
    status: Literal["processing", "ingested", "failed"]
    stage: str | None
    error: str | None
    chunk_count: int
    size_bytes: int
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class DocumentsResultPayload(Contract):
    documents: list[DocumentSummary]
    next_cursor: str | None = None


# --- conversations (generation) -------------------------------------------------------------


class ConversationsQueryPayload(Contract):
    action: Literal["list", "get", "check", "rename", "delete"]
    conversation_id: uuid.UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=20, ge=1, le=100)


class ConversationMessage(Contract):
    message_id: uuid.UUID
    request_id: uuid.UUID | None = Field(
        default=None,
        description="The generation request it belongs to (an answer's can be saved to "
        "Notion with `POST /v1/generations/{request_id}/notion`).",
    )
    role: Literal["system", "user", "assistant"]
    content: str
    created_at: datetime
    provider: str | None = None
    model: str | None = None
    usage: TokenUsage | None = None
    finish_reason: str | None = None
    latency_ms: int | None = Field(default=None, description="Whole answer, milliseconds.")
    ttft_ms: int | None = Field(default=None, description="To the first token, milliseconds.")
    citations: list[Citation] = Field(
        default_factory=list, description="A grounded answer's sources; `[n]` is the n-th."
    )


class ConversationSummary(Contract):
    conversation_id: uuid.UUID
    title: str | None
    created_at: datetime
    updated_at: datetime
    messages: list[ConversationMessage] = Field(default_factory=list)


class ConversationsResultPayload(Contract):
    conversations: list[ConversationSummary]
    next_cursor: str | None = None


# --- usage reports (analytics) --------------------------------------------------------------


ReportDimension = Literal["day", "provider", "model", "user"]
DEFAULT_DIMENSIONS: tuple[ReportDimension, ...] = ("day",)
MAX_REPORT_DAYS = 366


class UsageReportQueryPayload(Contract):
    """`report`: rows over [start, end] (inclusive days, UTC) grouped by `group_by`, biggest
    spend first when grouped by user; `summary`: the current month against the budget."""

    kind: Literal["report", "summary", "requests"] = "report"
    start: date | None = None
    end: date | None = None
    group_by: list[ReportDimension] = Field(
        default_factory=lambda: list(DEFAULT_DIMENSIONS), max_length=4
    )
    all_users: bool = Field(default=False, description="Admin report over every user.")
    request_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=100,
        description="`requests`: one row per request named (created within [start, end]).",
    )
    limit: int = Field(default=1000, ge=1, le=10_000)

    def range_problem(self) -> str | None:
        """What is wrong with a report's date range, naming the parameter; None if nothing."""
        if self.start is None or self.end is None:
            return "start and end: both dates are required"
        if self.end < self.start:
            return "end: must not be before start"
        if (self.end - self.start).days + 1 > MAX_REPORT_DAYS:
            return f"end: a report spans at most {MAX_REPORT_DAYS} days"
        return None


class UsageReportRow(Contract):
    request_id: uuid.UUID | None = None
    day: date | None = None
    provider: str | None = None
    model: str | None = None
    user_id: uuid.UUID | None = None
    requests: int
    tokens: TokenUsage
    embedding_tokens: int = 0
    api_calls: int = 0
    cost_usd: Usd = Field(description="Cost of the priced usage.")
    unpriced_events: int = Field(
        default=0, description="Usage with no price for its model and time: cost unknown."
    )
    latency_p50_ms: int | None = Field(
        default=None, description="Median answer time, whole milliseconds (from a histogram)."
    )
    latency_p95_ms: int | None = Field(
        default=None, description="95th percentile answer time, whole milliseconds."
    )


class UsageSummary(Contract):
    period: str
    spent_usd: Usd
    tokens: int
    requests: int
    unpriced_events: int
    soft_limit_usd: Usd | None
    hard_limit_usd: Usd | None
    token_limit: int | None
    remaining_usd: Usd | None
    remaining_tokens: int | None
    state: Literal["ok", "soft_exceeded", "hard_exceeded"]


class UsageReportResultPayload(Contract):
    rows: list[UsageReportRow] = Field(default_factory=list)
    summary: UsageSummary | None = None


# --- content history (generation) ----------------------------------------------------------


class HistoryQueryPayload(Contract):
    """A page of the caller's generated content, newest first, filtered."""

    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=20, ge=1, le=100)
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Words to find in the prompt or the content (Portuguese and English).",
    )
    since: datetime | None = Field(default=None, description="Created at or after.")
    until: datetime | None = Field(default=None, description="Created before.")
    model: str | None = Field(
        default=None, max_length=200, description="`provider/model`, as `GET /v1/models` lists."
    )
    saved_to_notion: bool | None = None


class HistoryItem(Contract):
    request_id: uuid.UUID
    conversation_id: uuid.UUID | None
    prompt: str
    content: str
    provider: str
    model: str
    notion_url: str | None = Field(description="The Notion page, once saved there.")
    created_at: datetime
    cost_usd: Usd | None = Field(
        default=None, description="What the request cost; null while not yet priced."
    )


class HistoryResultPayload(Contract):
    items: list[HistoryItem]
    next_cursor: str | None = None


# --- failure reply --------------------------------------------------------------------------


class QueryFailedPayload(Contract):
    status: int = Field(ge=400, le=599, description="HTTP status the gateway should answer.")
    reason: str
    detail: dict[str, Any] = Field(default_factory=dict)


class DocumentsQueryV1(Envelope[DocumentsQueryPayload]):
    type: Literal["documents.query"] = "documents.query"
    version: Literal[1] = 1


class DocumentsResultV1(Envelope[DocumentsResultPayload]):
    type: Literal["documents.result"] = "documents.result"
    version: Literal[1] = 1


class SearchQueryV1(Envelope[SearchQueryPayload]):
    type: Literal["search.query"] = "search.query"
    version: Literal[1] = 1


class SearchResultV1(Envelope[SearchResultPayload]):
    type: Literal["search.result"] = "search.result"
    version: Literal[1] = 1


class ConversationsQueryV1(Envelope[ConversationsQueryPayload]):
    type: Literal["conversations.query"] = "conversations.query"
    version: Literal[1] = 1


class ConversationsResultV1(Envelope[ConversationsResultPayload]):
    type: Literal["conversations.result"] = "conversations.result"
    version: Literal[1] = 1


class UsageReportQueryV1(Envelope[UsageReportQueryPayload]):
    type: Literal["usage.report.query"] = "usage.report.query"
    version: Literal[1] = 1


class UsageReportResultV1(Envelope[UsageReportResultPayload]):
    type: Literal["usage.report.result"] = "usage.report.result"
    version: Literal[1] = 1


class HistoryQueryV1(Envelope[HistoryQueryPayload]):
    type: Literal["history.query"] = "history.query"
    version: Literal[1] = 1


class HistoryResultV1(Envelope[HistoryResultPayload]):
    type: Literal["history.result"] = "history.result"
    version: Literal[1] = 1


class QueryFailedV1(Envelope[QueryFailedPayload]):
    type: Literal["query.failed"] = "query.failed"
    version: Literal[1] = 1
