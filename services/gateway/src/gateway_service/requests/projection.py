"""Event handlers that move requests forward: generations, documents, Notion saves."""

import uuid
from typing import Any

from assistant_messaging.failures import PermanentFailure
from assistant_messaging.router import EventRouter, MessageContext
from assistant_schemas import Envelope
from assistant_schemas.documents import (
    DocumentDeletedV1,
    DocumentFailedV1,
    DocumentIngestedV1,
    DocumentProgressV1,
)
from assistant_schemas.generation import GenerationCompletedV1, GenerationFailedV1
from assistant_schemas.notion import NotionPageFailedV1, NotionPageSyncedV1
from gateway_service.requests.repository import Kind, Requests, Status


def owner(event: Envelope[Any]) -> uuid.UUID:
    if event.user_id is None:
        raise PermanentFailure(f"{event.type} names no user_id; its request has no owner")
    return event.user_id


async def follow(
    context: MessageContext,
    event: Envelope[Any],
    request_id: uuid.UUID,
    kind: Kind,
    status: Status,
    detail: dict[str, Any],
) -> None:
    await Requests(context.session).follow(request_id, owner(event), kind, status, detail)


def register(router: EventRouter) -> None:
    @router.handles(GenerationCompletedV1)
    async def generation_completed(event: GenerationCompletedV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
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
            },
        )

    @router.handles(GenerationFailedV1)
    async def generation_failed(event: GenerationFailedV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
            p.request_id,
            "generation",
            "failed",
            {"error": {"class": p.error_class, "message": p.message, "retryable": p.retryable}},
        )

    @router.handles(NotionPageSyncedV1)
    async def notion_synced(event: NotionPageSyncedV1, context: MessageContext) -> None:
        p = event.payload
        page = {"page_id": p.page_id, "url": p.url}
        await follow(context, event, p.request_id, "notion_save", "succeeded", page)
        if p.source_request_id:  # the generation whose content was saved shows the page too
            await follow(
                context, event, p.source_request_id, "generation", "succeeded", {"notion": page}
            )

    @router.handles(NotionPageFailedV1)
    async def notion_failed(event: NotionPageFailedV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
            p.request_id,
            "notion_save",
            "failed",
            {"error": {"message": p.reason, "retryable": p.retryable}},
        )

    @router.handles(DocumentProgressV1)
    async def document_progress(event: DocumentProgressV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
            p.request_id,
            "document",
            "running",
            {
                "document_id": str(p.document_id),
                "stage": p.stage,
                p.stage: {"completed": p.completed, "total": p.total},
            },
        )

    @router.handles(DocumentIngestedV1)
    async def document_ingested(event: DocumentIngestedV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
            p.request_id,
            "document",
            "succeeded",
            {
                "document_id": str(p.document_id),
                "chunk_count": p.chunk_count,
                "duplicate_of": str(p.duplicate_of) if p.duplicate_of else None,
            },
        )

    @router.handles(DocumentFailedV1)
    async def document_failed(event: DocumentFailedV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
            p.request_id,
            "document",
            "failed",
            {
                "document_id": str(p.document_id),
                "error": {"stage": p.stage, "message": p.reason, "retryable": p.retryable},
            },
        )

    @router.handles(DocumentDeletedV1)
    async def document_deleted(event: DocumentDeletedV1, context: MessageContext) -> None:
        p = event.payload
        await follow(
            context,
            event,
            p.request_id,
            "document",
            "succeeded",
            {"document_id": str(p.document_id), "deleted": True},
        )
