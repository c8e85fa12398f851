"""Asking notion_sync to save generated content as a page, and remembering where it went."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_schemas import new_event
from assistant_schemas.generation import NotionTarget
from assistant_schemas.notion import NotionPageRequestedPayload, NotionPageRequestedV1
from generation_service.models import content_history

MAX_TITLE = 100


def page_request(
    *,
    user_id: uuid.UUID,
    correlation_id: str,
    save_id: uuid.UUID,
    source_request_id: uuid.UUID,
    target: NotionTarget,
    prompt: str,
    content: str,
    provider: str,
    model: str,
) -> NotionPageRequestedV1:
    return new_event(
        NotionPageRequestedV1,
        NotionPageRequestedPayload(
            request_id=save_id,
            source_request_id=source_request_id,
            title=None if _has_heading(content) else _title_from(prompt),
            markdown=content,
            parent_id=target.parent_id,
            parent_type=target.parent_type,
            provider=provider,
            model=model,
        ),
        correlation_id=correlation_id,
        producer="generation",
        user_id=user_id,
    )


def _has_heading(content: str) -> bool:
    """Whether the answer has a Markdown heading, which notion_sync then takes as the title."""
    return any(
        line.lstrip().startswith("# ") or line.startswith("##") for line in content.split("\n")
    )


def _title_from(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"


async def stored_content(
    session: AsyncSession, user_id: uuid.UUID, request_id: uuid.UUID
) -> tuple[str, str, str, str] | None:
    """(prompt, content, provider, model) of the user's generation, if it is stored."""
    c = content_history.c
    row = (
        await session.execute(
            select(c.prompt, c.generated_content, c.provider, c.model).where(
                c.id == request_id, c.user_id == user_id
            )
        )
    ).first()
    return (row[0], row[1], row[2], row[3]) if row else None


async def record_page(
    session: AsyncSession, user_id: uuid.UUID, request_id: uuid.UUID, page_id: str, url: str
) -> None:
    await session.execute(
        update(content_history)
        .where(content_history.c.id == request_id, content_history.c.user_id == user_id)
        .values(notion_page_id=page_id, notion_url=url)
    )
