"""Content history: what a user generated, newest first, searched and filtered — always read
on behalf of one user."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db.keyset import Position, past
from assistant_schemas.queries import HistoryQueryPayload
from generation_service.models import content_history

c = content_history.c
# The words asked, read as Portuguese or as English, against the prompt's and the content's
# words in both (the GIN-indexed `words` column).
MATCHES = text(
    "words @@ (websearch_to_tsquery('portuguese', :q) || websearch_to_tsquery('english', :q))"
)


async def history_page(
    session: AsyncSession,
    user_id: uuid.UUID,
    asked: HistoryQueryPayload,
    before: Position | None,
) -> list[Row[Any]]:
    """Up to `asked.limit + 1` rows (one more tells whether another page follows)."""
    statement = (
        select(content_history)
        .where(c.user_id == user_id)
        .order_by(c.created_at.desc(), c.id.desc())
        .limit(asked.limit + 1)
    )
    if before is not None:
        statement = statement.where(past(c.created_at, c.id, before, descending=True))
    if asked.q is not None:
        statement = statement.where(MATCHES.bindparams(q=asked.q))
    if asked.since is not None:
        statement = statement.where(c.created_at >= asked.since)
    if asked.until is not None:
        statement = statement.where(c.created_at < asked.until)
    if asked.model is not None:
        provider, _, model = asked.model.partition("/")
        statement = statement.where(c.provider == provider, c.model == model)
    if asked.saved_to_notion is not None:
        saved = c.notion_url.is_not(None)
        statement = statement.where(saved if asked.saved_to_notion else ~saved)
    return list(await session.execute(statement))
