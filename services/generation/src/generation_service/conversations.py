"""Conversations and their messages, always read and written on behalf of one user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db.keyset import past
from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import ChatMessage
from generation_service.models import conversations, messages

TITLE_LENGTH = 60


def title_from(prompt: str) -> str:
    """A title from the first question: its first line, cut at a word near 60 characters."""
    line = next((line.strip() for line in prompt.splitlines() if line.strip()), "Untitled")
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[:TITLE_LENGTH].rsplit(" ", 1)[0] or line[:TITLE_LENGTH]
    return cut.rstrip(" ,.;:") + "…"


@dataclass(frozen=True)
class Turn:
    """One exchange to store: what the user sent and what the model answered."""

    prompt: list[ChatMessage]
    answer: str
    provider: str
    model: str
    usage: TokenUsage
    latency_ms: float
    ttft_ms: float | None
    metadata: dict[str, Any]


def message_rows(turn: Turn, answer_id: uuid.UUID) -> list[dict[str, Any]]:
    """The turn's messages as rows to store, the prompt's first and the answer last, with
    creation times a microsecond apart to keep that order."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "role": message.role,
            "content": message.content,
            "metadata": {},
            "created_at": now + timedelta(microseconds=position),
        }
        for position, message in enumerate(turn.prompt)
    ]
    rows.append(
        {
            "id": answer_id,
            "role": "assistant",
            "content": turn.answer,
            "provider": turn.provider,
            "model": turn.model,
            "input_tokens": turn.usage.input_tokens,
            "output_tokens": turn.usage.output_tokens,
            "cached_tokens": turn.usage.cached_tokens,
            "latency_ms": turn.latency_ms,
            "ttft_ms": turn.ttft_ms,
            "metadata": turn.metadata,
            "created_at": now + timedelta(microseconds=len(turn.prompt)),
        }
    )
    return rows


class Conversations:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    async def page(self, limit: int, before: tuple[datetime, uuid.UUID] | None) -> list[Row[Any]]:
        statement = (
            select(conversations)
            .where(conversations.c.user_id == self.user_id)
            .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(
                past(conversations.c.updated_at, conversations.c.id, before, descending=True)
            )
        return list(await self.session.execute(statement))

    async def get(self, conversation_id: uuid.UUID) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(conversations).where(
                    conversations.c.id == conversation_id,
                    conversations.c.user_id == self.user_id,
                )
            )
        ).one_or_none()

    async def messages_of(self, conversation_id: uuid.UUID) -> list[Row[Any]]:
        """Every message, oldest first (the caller checked the conversation is the user's)."""
        return list(
            await self.session.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.created_at, messages.c.id)
            )
        )

    async def rename(self, conversation_id: uuid.UUID, title: str) -> bool:
        result = await self.session.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.user_id == self.user_id)
            .values(title=title, updated_at=func.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, conversation_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(conversations).where(
                conversations.c.id == conversation_id, conversations.c.user_id == self.user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_all(self) -> None:
        await self.session.execute(
            delete(conversations).where(conversations.c.user_id == self.user_id)
        )
