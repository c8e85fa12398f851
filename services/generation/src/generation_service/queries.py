"""Queries generation answers over request/reply: conversations, content history, and the model
catalogue."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant_db.keyset import decode_cursor, encode_cursor
from assistant_messaging.publishing.outbox import Outbox
from assistant_messaging.request_reply import replies
from assistant_schemas import Envelope
from assistant_schemas.catalog import CatalogQueryV1, CatalogResultV1
from assistant_schemas.common import TokenUsage
from assistant_schemas.queries import (
    ConversationMessage,
    ConversationsQueryV1,
    ConversationsResultPayload,
    ConversationsResultV1,
    ConversationSummary,
    HistoryItem,
    HistoryQueryV1,
    HistoryResultPayload,
    HistoryResultV1,
)
from generation_service import catalog
from generation_service.catalog import CatalogCache
from generation_service.catalog_announcer import announce
from generation_service.conversations import Conversations
from generation_service.history import history_page

# Replies carry the query's correlation id and user; this service is their producer.
answer = partial(replies.answer, producer="generation")
refusal = partial(replies.refusal, producer="generation")


class ConversationQueries:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, query: ConversationsQueryV1) -> Envelope[Any]:
        if query.user_id is None:
            return refusal(query, 400, "the query names no user")
        p = query.payload
        async with self._sessions() as session, session.begin():
            conversations = Conversations(session, query.user_id)
            if p.action == "list":
                try:
                    before = decode_cursor(p.cursor) if p.cursor else None
                except ValueError:
                    return refusal(query, 400, "cursor: not a cursor this API returned")
                rows = await conversations.page(p.limit + 1, before)
                more = len(rows) > p.limit
                rows = rows[: p.limit]
                next_cursor = encode_cursor(rows[-1].updated_at, rows[-1].id) if more else None
                summaries = [_summary(row) for row in rows]
                return answer(
                    query,
                    ConversationsResultV1,
                    ConversationsResultPayload(conversations=summaries, next_cursor=next_cursor),
                )
            if p.conversation_id is None:
                return refusal(query, 400, f"{p.action} needs a conversation_id")
            if p.action == "rename":
                if not p.title or not await conversations.rename(p.conversation_id, p.title):
                    return refusal(query, 404, "no such conversation")
            elif p.action == "delete":
                if not await conversations.delete(p.conversation_id):
                    return refusal(query, 404, "no such conversation")
                return answer(
                    query, ConversationsResultV1, ConversationsResultPayload(conversations=[])
                )
            row = await conversations.get(p.conversation_id)
            if row is None:
                return refusal(query, 404, "no such conversation")
            messages = await conversations.messages_of(p.conversation_id)
            summary = _summary(row, messages if p.action == "get" else None)
            return answer(
                query,
                ConversationsResultV1,
                ConversationsResultPayload(conversations=[summary]),
            )


def _summary(row: Any, messages: list[Any] | None = None) -> ConversationSummary:
    return ConversationSummary(
        conversation_id=row.id,
        title=row.title,
        created_at=row.created_at,
        updated_at=row.updated_at,
        messages=[
            ConversationMessage(
                message_id=m.id,
                request_id=m.request_id,
                role=m.role,
                content=m.content,
                created_at=m.created_at,
                provider=m.provider,
                model=m.model,
                usage=TokenUsage(
                    input_tokens=m.input_tokens,
                    output_tokens=m.output_tokens,
                    cached_tokens=m.cached_tokens or 0,
                )
                if m.role == "assistant" and m.input_tokens is not None
                else None,
                finish_reason=m.metadata.get("finish_reason"),
                latency_ms=_milliseconds(m.latency_ms),
                ttft_ms=_milliseconds(m.ttft_ms),
                citations=m.metadata.get("citations", []),
            )
            for m in messages or []
        ],
    )


def _milliseconds(value: float | None) -> int | None:
    """Whole milliseconds: finer is measurement noise to a reader."""
    return None if value is None else round(value)


class HistoryQueries:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, query: HistoryQueryV1) -> Envelope[Any]:
        if query.user_id is None:
            return refusal(query, 400, "the query names no user")
        p = query.payload
        try:
            before = decode_cursor(p.cursor) if p.cursor else None
        except ValueError:
            return refusal(query, 400, "cursor: not a cursor this API returned")
        async with self._sessions() as session, session.begin():
            rows = await history_page(session, query.user_id, p, before)
        more = len(rows) > p.limit
        rows = rows[: p.limit]
        items = [
            HistoryItem(
                request_id=row.id,
                conversation_id=row.conversation_id,
                prompt=row.prompt,
                content=row.generated_content,
                provider=row.provider,
                model=row.model,
                notion_url=row.notion_url,
                created_at=row.created_at,
            )
            for row in rows
        ]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
        return answer(
            query, HistoryResultV1, HistoryResultPayload(items=items, next_cursor=next_cursor)
        )


class CatalogQueries:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cache: CatalogCache, outbox: Outbox
    ) -> None:
        self._sessions = sessions
        self._cache = cache
        self._outbox = outbox

    async def __call__(self, query: CatalogQueryV1) -> Envelope[Any]:
        p = query.payload
        async with self._sessions() as session, session.begin():
            if p.action == "list":
                version = await catalog.current_version(session)
                current = (await catalog.load(session)).payload(version)
                return answer(query, CatalogResultV1, current)
            if p.action == "put_provider":
                if p.provider is None:
                    return refusal(query, 400, "put_provider needs a provider")
                await catalog.put_provider(session, p.provider)
            else:
                if p.model is None:
                    return refusal(query, 400, "put_model needs a model")
                if not await catalog.has_provider(session, p.model.provider):
                    return refusal(query, 404, f"no provider {p.model.provider}: add it first")
                await catalog.put_model(session, p.model)
            changed = await announce(session, self._outbox, query.correlation_id)
        self._cache.invalidate()
        return answer(query, CatalogResultV1, changed)
