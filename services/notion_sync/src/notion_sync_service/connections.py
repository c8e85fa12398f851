"""Users' Notion connections: the integration token (as ciphertext) that writes their pages."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_messaging.publishing.outbox import Transaction
from notion_sync_service.models import notion_connections


async def put(
    session: AsyncSession, user_id: uuid.UUID, ciphertext: str, fingerprint: str | None
) -> None:
    values = {"token_ciphertext": ciphertext, "fingerprint": fingerprint, "updated_at": func.now()}
    statement = insert(notion_connections).values(user_id=user_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=values))


async def remove(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(notion_connections).where(notion_connections.c.user_id == user_id))


async def find(session: Transaction, user_id: uuid.UUID) -> tuple[str, str | None] | None:
    """(token ciphertext, fingerprint) of the user's connection, if any."""
    row = (
        await session.execute(
            select(notion_connections.c.token_ciphertext, notion_connections.c.fingerprint).where(
                notion_connections.c.user_id == user_id
            )
        )
    ).first()
    return (row[0], row[1]) if row else None
