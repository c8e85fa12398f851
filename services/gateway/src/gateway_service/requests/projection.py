"""How each event the gateway consumes moves requests forward.

Every event maps to one or more updates — (request id, kind, status, detail); one handler
applies all those of a consumed batch in one statement. The mapping functions below say only
what differs from event to event.
"""

import uuid
from collections.abc import Callable
from typing import Any

from assistant_messaging.consuming.failures import PermanentFailure
from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_schemas import Envelope
from assistant_schemas.documents import (
    DocumentDeletedV1,
    DocumentFailedV1,
    DocumentIngestedV1,
    DocumentProgressV1,
)
from assistant_schemas.generation import GenerationCompletedV1, GenerationFailedV1
from assistant_schemas.notion import NotionPageFailedV1, NotionPageSyncedV1
from gateway_service.requests.repository import Kind, News, Requests, Status, merged

Update = tuple[uuid.UUID, Kind, Status, dict[str, Any]]


def generation_completed(p: Any) -> list[Update]:
    return [
        (
            p.request_id,
            "generation",
            "succeeded",
            {
                "conversation_id": str(p.conversation_id),
                "message_id": str(p.message_id),
                "provider": p.provider,
                "model": p.model,
                "finish_reason": p.finish_reason,
                "usage": p.usage.model_dump(),
                "citations": [c.model_dump(mode="json") for c in p.citations],
            },
        )
    ]


def generation_failed(p: Any) -> list[Update]:
    error = {"class": p.error_class, "message": p.message, "retryable": p.retryable}
    return [(p.request_id, "generation", "failed", {"error": error})]


def notion_synced(p: Any) -> list[Update]:
    page = {"page_id": p.page_id, "url": p.url}
    updates: list[Update] = [(p.request_id, "notion_save", "succeeded", page)]
    if p.source_request_id:  # the generation whose content was saved shows the page too
        updates.append((p.source_request_id, "generation", "succeeded", {"notion": page}))
    return updates


def notion_failed(p: Any) -> list[Update]:
    error = {"message": p.reason, "retryable": p.retryable}
    updates: list[Update] = [(p.request_id, "notion_save", "failed", {"error": error})]
    if p.source_request_id:  # the generation whose content was to be saved says so too
        updates.append((p.source_request_id, "generation", "succeeded", {"notion": error}))
    return updates


def document_progress(p: Any) -> list[Update]:
    detail = {
        "document_id": str(p.document_id),
        "stage": p.stage,
        p.stage: {"completed": p.completed, "total": p.total},
    }
    return [(p.request_id, "document", "running", detail)]


def document_ingested(p: Any) -> list[Update]:
    detail: dict[str, Any] = {
        "document_id": str(p.document_id),
        "chunk_count": p.chunk_count,
        "embedding_model": p.embedding_model,
        "duplicate_of": str(p.duplicate_of) if p.duplicate_of else None,
        "stage": None,  # nothing is under way any more
    }
    if not p.duplicate_of:  # ingested here: every stage ran to its end
        chunks = {"completed": p.chunk_count, "total": p.chunk_count}
        detail |= {"parsing": {"completed": 1, "total": 1}}
        detail |= {stage: chunks for stage in ("chunking", "embedding", "indexing")}
    return [(p.request_id, "document", "succeeded", detail)]


def document_failed(p: Any) -> list[Update]:
    error = {"stage": p.stage, "message": p.reason, "retryable": p.retryable}
    detail = {"document_id": str(p.document_id), "stage": None, "error": error}
    return [(p.request_id, "document", "failed", detail)]


def document_deleted(p: Any) -> list[Update]:
    return [
        (
            p.request_id,
            "document",
            "succeeded",
            {"document_id": str(p.document_id), "deleted": True},
        )
    ]


UPDATES: dict[type[Envelope[Any]], Callable[[Any], list[Update]]] = {
    GenerationCompletedV1: generation_completed,
    GenerationFailedV1: generation_failed,
    NotionPageSyncedV1: notion_synced,
    NotionPageFailedV1: notion_failed,
    DocumentProgressV1: document_progress,
    DocumentIngestedV1: document_ingested,
    DocumentFailedV1: document_failed,
    DocumentDeletedV1: document_deleted,
}


async def project(events: list[Envelope[Any]], context: MessageContext) -> None:
    news: list[News] = []
    for event in events:
        if event.user_id is None:
            raise PermanentFailure(f"{event.type} names no user_id; its request has no owner")
        for request_id, kind, status, detail in UPDATES[type(event)](event.payload):
            news.append(News(request_id, event.user_id, kind, status, detail))
    await Requests(context.session).follow(merged(news))


def register(router: EventRouter) -> None:
    for event_class in UPDATES:
        router.handles_batch(event_class)(project)
