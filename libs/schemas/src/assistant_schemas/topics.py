"""The topic registry: every topic, the contracts on it, its key, size and retention.

This is the single declaration the stack creates topics from and the AsyncAPI document is
generated from. Each consuming service also gets two companions: `<service>.retry`, where failed
messages wait out their backoff, and `<service>.dlq`, where they land after the last attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from assistant_schemas import (
    accounts,
    budget,
    catalog,
    credentials,
    documents,
    generation,
    notion,
    queries,
    usage,
)
from assistant_schemas.envelope import Envelope

SERVICES = ("gateway", "generation", "notion_sync", "ingestion", "analytics")

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RETRY_RETENTION = 7 * DAY  # each service's retry topic
RETRY_PARTITIONS = 6


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    events: tuple[type[Envelope[Any]], ...]
    key: tuple[str, ...] = field(
        metadata={"doc": "Dotted paths into the event; the first one set is the message key."}
    )
    consumers: tuple[str, ...] = ()
    partitions: int = 6
    retention: timedelta = 7 * DAY
    compacted: bool = field(
        default=False, metadata={"doc": "Keeps the latest message per key instead of expiring."}
    )

    def key_for(self, event: Envelope[Any]) -> bytes | None:
        for path in self.key:
            value: Any = event
            for part in path.split("."):
                value = getattr(value, part, None)
            if value is not None:
                return str(value).encode()
        return None

    @property
    def retention_ms(self) -> int:
        return int(self.retention.total_seconds() * 1000)


RETRY_SUFFIX = ".retry"


def retry_topic(service: str) -> str:
    return f"{service}{RETRY_SUFFIX}"


def is_retry_topic(name: str) -> bool:
    return name.endswith(RETRY_SUFFIX)


def dead_letter_topic(service: str) -> str:
    return f"{service}.dlq"


# Replies of request/reply (query answers, streamed chunks). Each requester instance reads one
# partition of its own choosing, with no consumer group: replies are addressed to a partition.
REPLIES = "gateway.replies"
REPLY_PARTITIONS = 32

TOPICS: tuple[Topic, ...] = (
    Topic(
        "account.deleted",
        "An account was deleted: remove or anonymise everything of that user.",
        (accounts.AccountDeletedV1,),
        key=("user_id",),
        consumers=("generation", "notion_sync", "ingestion", "analytics"),
        retention=30 * DAY,
    ),
    Topic(
        "account.plan_changed",
        "An account's plan tier was set (at registration) or changed; budgets follow it.",
        (accounts.AccountPlanChangedV1,),
        key=("user_id",),
        consumers=("analytics",),
        retention=30 * DAY,
    ),
    Topic(
        "generation.requested",
        "A user asked for content; generation answers it.",
        (generation.GenerationRequestedV1,),
        key=("payload.conversation_id", "payload.request_id"),
        consumers=("generation",),
    ),
    Topic(
        "generation.cancel_requested",
        "Stop a running generation; every generation instance reads all of it (no group).",
        (generation.GenerationCancelRequestedV1,),
        key=("payload.request_id",),
        consumers=("generation",),
        partitions=1,
        retention=HOUR,
    ),
    Topic(
        "generation.save_requested",
        "Save a finished generation's content to Notion; generation, which holds it, asks.",
        (generation.GenerationSaveRequestedV1,),
        key=("payload.source_request_id",),
        consumers=("generation",),
    ),
    Topic(
        "generation.completed",
        "Content was generated; the gateway's status projection follows it.",
        (generation.GenerationCompletedV1,),
        key=("payload.conversation_id",),
        consumers=("gateway",),
    ),
    Topic(
        "generation.failed",
        "A generation could not be answered.",
        (generation.GenerationFailedV1,),
        key=("payload.request_id",),
        consumers=("gateway",),
    ),
    Topic(
        "notion.page.requested",
        "Save content as a Notion page. Keyed by user, whose connection writes it.",
        (notion.NotionPageRequestedV1,),
        key=("user_id",),
        consumers=("notion_sync",),
    ),
    Topic(
        "notion.page.synced",
        "A Notion page exists for the request.",
        (notion.NotionPageSyncedV1,),
        key=("payload.request_id",),
        consumers=("gateway", "generation"),
    ),
    Topic(
        "notion.page.failed",
        "A Notion page could not be written.",
        (notion.NotionPageFailedV1,),
        key=("payload.request_id",),
        consumers=("gateway",),
    ),
    Topic(
        "document.uploaded",
        "A document's bytes are in the blob store; ingestion parses and indexes it.",
        (documents.DocumentUploadedV1,),
        key=("payload.document_id",),
        consumers=("ingestion",),
    ),
    Topic(
        "document.progress",
        "Per-stage progress of an ingestion.",
        (documents.DocumentProgressV1,),
        key=("payload.document_id",),
        consumers=("gateway",),
        retention=DAY,
    ),
    Topic(
        "document.ingested",
        "A document is searchable.",
        (documents.DocumentIngestedV1,),
        key=("payload.document_id",),
        consumers=("gateway",),
    ),
    Topic(
        "document.failed",
        "A document could not be ingested; the stage and reason say why.",
        (documents.DocumentFailedV1,),
        key=("payload.document_id",),
        consumers=("gateway",),
    ),
    Topic(
        "document.delete_requested",
        "Remove a document, its chunks and its blob.",
        (documents.DocumentDeleteRequestedV1,),
        key=("payload.document_id",),
        consumers=("ingestion",),
    ),
    Topic(
        "document.deleted",
        "A document and its chunks are gone.",
        (documents.DocumentDeletedV1,),
        key=("payload.document_id",),
        consumers=("gateway",),
    ),
    Topic(
        "credentials.updated",
        "A user's provider or Notion credential was set or deleted (ciphertext only).",
        (credentials.CredentialsUpdatedV1,),
        key=("user_id",),
        consumers=("generation", "notion_sync"),
        retention=30 * DAY,
    ),
    Topic(
        "usage.recorded",
        "One billable unit of work. Keyed by user: one writer per user's totals.",
        (usage.UsageRecordedV1,),
        key=("user_id",),
        consumers=("analytics",),
        partitions=12,
        retention=30 * DAY,
    ),
    Topic(
        "budget.updated",
        "A user's spend for the month changed.",
        (budget.BudgetUpdatedV1,),
        key=("user_id",),
        consumers=("gateway",),
    ),
    Topic(
        "budget.exceeded",
        "A user crossed a hard budget limit.",
        (budget.BudgetExceededV1,),
        key=("user_id",),
        consumers=("gateway",),
    ),
    Topic(
        "search.query",
        "Search a user's collections (request/reply).",
        (queries.SearchQueryV1,),
        key=("user_id",),
        consumers=("ingestion",),
        retention=HOUR,
    ),
    Topic(
        "documents.query",
        "List the caller's documents, or change one's metadata or collection (request/reply).",
        (queries.DocumentsQueryV1,),
        key=("user_id",),
        consumers=("ingestion",),
        retention=HOUR,
    ),
    Topic(
        "conversations.query",
        "List or read a user's conversations (request/reply).",
        (queries.ConversationsQueryV1,),
        key=("user_id",),
        consumers=("generation",),
        retention=HOUR,
    ),
    Topic(
        "history.query",
        "Page through a user's generated content, searched and filtered (request/reply).",
        (queries.HistoryQueryV1,),
        key=("user_id",),
        consumers=("generation",),
        retention=HOUR,
    ),
    Topic(
        "catalog.changed",
        "The whole model catalogue, after each change and when generation starts; compacted,"
        " so the latest is kept for as long as the topic exists.",
        (catalog.CatalogChangedV1,),
        key=("type",),
        consumers=("gateway",),
        partitions=1,
        compacted=True,
    ),
    Topic(
        "catalog.query",
        "Read or change the model catalogue (request/reply).",
        (catalog.CatalogQueryV1,),
        key=(),
        consumers=("generation",),
        partitions=1,
        retention=HOUR,
    ),
    Topic(
        "usage.report.query",
        "A usage report (request/reply).",
        (queries.UsageReportQueryV1,),
        key=("user_id",),
        consumers=("analytics",),
        retention=HOUR,
    ),
    Topic(
        "notion.connection.query",
        "Check a user's Notion connection (request/reply).",
        (notion.NotionConnectionQueryV1,),
        key=("user_id",),
        consumers=("notion_sync",),
        retention=HOUR,
    ),
    Topic(
        "budget.limits.query",
        "Read or set budget limits of a plan tier or a user (request/reply).",
        (budget.BudgetLimitsQueryV1,),
        key=(),
        consumers=("analytics",),
        partitions=1,
        retention=HOUR,
    ),
    Topic(
        REPLIES,
        "Replies to queries and streamed generation chunks, addressed to a partition.",
        (
            generation.GenerationChunkV1,
            generation.GenerationCompletedV1,
            generation.GenerationFailedV1,
            queries.SearchResultV1,
            queries.DocumentsResultV1,
            queries.ConversationsResultV1,
            queries.HistoryResultV1,
            catalog.CatalogResultV1,
            queries.UsageReportResultV1,
            budget.BudgetLimitsResultV1,
            notion.NotionConnectionResultV1,
            queries.QueryFailedV1,
        ),
        key=(),
        partitions=REPLY_PARTITIONS,
        retention=HOUR,
    ),
)

TOPICS_BY_NAME = {topic.name: topic for topic in TOPICS}


def topic_for_event(event: Envelope[Any]) -> Topic:
    """The topic an event is published on (the one that is not the reply topic)."""
    return topic_of(type(event))


def topic_of(contract: type[Envelope[Any]]) -> Topic:
    """The topic that carries `contract` (the one that is not the reply topic)."""
    for topic in TOPICS:
        if topic.name != REPLIES and contract in topic.events:
            return topic
    raise LookupError(f"no topic carries {contract.__name__}")


def topic_names(*contracts: type[Envelope[Any]]) -> list[str]:
    """The topics carrying `contracts`, in their order: how a consumer names what it reads."""
    return [topic_of(contract).name for contract in contracts]


def subscriptions(service: str) -> tuple[Topic, ...]:
    return tuple(topic for topic in TOPICS if service in topic.consumers)


@dataclass(frozen=True)
class TopicSpec:
    """What the stack creates: a name, its partitions and how long records stay."""

    name: str
    partitions: int
    retention_ms: int
    compacted: bool = False

    @property
    def configs(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact"}
        return {"retention.ms": str(self.retention_ms)}


def all_topic_specs() -> list[TopicSpec]:
    specs = [TopicSpec(t.name, t.partitions, t.retention_ms, t.compacted) for t in TOPICS]
    for service in SERVICES:
        specs.append(
            TopicSpec(
                retry_topic(service), RETRY_PARTITIONS, int(RETRY_RETENTION.total_seconds() * 1000)
            )
        )
        specs.append(
            TopicSpec(dead_letter_topic(service), 1, int((30 * DAY).total_seconds() * 1000))
        )
    return specs
