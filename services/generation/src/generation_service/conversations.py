"""Conversations and their messages, always read and written on behalf of one user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
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

    request_id: uuid.UUID
    prompt: list[ChatMessage]
    answer: str
    provider: str
    model: str
    usage: TokenUsage
    latency_ms: float
    ttft_ms: float | None
    metadata: dict[str, Any]


# Every message row names every column: an insert of several rows takes its column list from
# the first, so an answer's usage after a prompt row without it would be stored as NULL.
_MESSAGE_DEFAULTS: dict[str, Any] = {
    "provider": None,
    "model": None,
    "input_tokens": None,
    "output_tokens": None,
    "cached_tokens": None,
    "latency_ms": None,
    "ttft_ms": None,
    "metadata": {},
}


def _message_row(**values: Any) -> dict[str, Any]:
    return {**_MESSAGE_DEFAULTS, **values}


class Conversations:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    async def owner_of(self, conversation_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(conversations.c.user_id).where(conversations.c.id == conversation_id)
        )

    async def history(self, conversation_id: uuid.UUID) -> list[ChatMessage]:
        rows = await self.session.execute(
            select(messages.c.role, messages.c.content)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                messages.c.conversation_id == conversation_id,
                conversations.c.user_id == self.user_id,
            )
            .order_by(messages.c.created_at, messages.c.id)
        )
        return [ChatMessage(role=row.role, content=row.content) for row in rows]

    async def record(
        self,
        conversation_id: uuid.UUID,
        turn: Turn,
        system_prompt: str | None,
        *,
        answer_id: uuid.UUID,
    ) -> None:
        """Stores the turn, creating the conversation on its first."""
        first_prompt = next((m.content for m in turn.prompt if m.role == "user"), "")
        statement = insert(conversations).values(
            id=conversation_id,
            user_id=self.user_id,
            title=title_from(first_prompt),
            provider=turn.provider,
            model=turn.model,
            system_prompt=system_prompt,
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "provider": turn.provider,
                    "model": turn.model,
                    "updated_at": func.now(),
                },
                where=conversations.c.user_id == self.user_id,
            )
        )
        now = datetime.now(UTC)
        rows = [
            _message_row(
                id=uuid.uuid4(),
                conversation_id=conversation_id,
                request_id=turn.request_id,
                role=message.role,
                content=message.content,
                created_at=now + timedelta(microseconds=position),  # keeps their order
            )
            for position, message in enumerate(turn.prompt)
        ]
        rows.append(
            _message_row(
                id=answer_id,
                conversation_id=conversation_id,
                request_id=turn.request_id,
                role="assistant",
                content=turn.answer,
                provider=turn.provider,
                model=turn.model,
                input_tokens=turn.usage.input_tokens,
                output_tokens=turn.usage.output_tokens,
                cached_tokens=turn.usage.cached_tokens,
                latency_ms=turn.latency_ms,
                ttft_ms=turn.ttft_ms,
                metadata=turn.metadata,
                created_at=now + timedelta(microseconds=len(turn.prompt)),
            )
        )
        await self.session.execute(insert(messages), rows)

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
