"""Access API keys: `na_<8 visible>_<secret>`, stored as a SHA-256 hash beside the visible prefix.

The whole key is shown once, at creation. Lookups go by hash (`auth.callers`), so a key is
checked without comparing secrets in Python.
"""

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.auth.callers import KEY_PREFIX, key_hash
from gateway_service.models import access_keys

SCOPES = ("account", "generate", "documents", "search", "usage", "notion")


class AccessKeys:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, user_id: uuid.UUID, *, name: str, scopes: list[str], expires_at: datetime | None
    ) -> tuple[Row[Any], str]:
        visible = secrets.token_hex(4)
        key = f"{KEY_PREFIX}{visible}_{secrets.token_urlsafe(32)}"
        row = (
            await self.session.execute(
                insert(access_keys)
                .values(
                    id=uuid.uuid4(),
                    user_id=user_id,
                    name=name,
                    prefix=f"{KEY_PREFIX}{visible}",
                    key_hash=key_hash(key),
                    scopes=sorted(set(scopes)),
                    expires_at=expires_at,
                )
                .returning(access_keys)
            )
        ).one()
        return row, key

    async def of_user(self, user_id: uuid.UUID) -> list[Row[Any]]:
        rows = await self.session.execute(
            select(access_keys)
            .where(access_keys.c.user_id == user_id)
            .order_by(access_keys.c.created_at.desc())
        )
        return list(rows)

    async def revoke(self, user_id: uuid.UUID, key_id: uuid.UUID) -> bool:
        """Revokes a key of `user_id`; False when that user has no such key."""
        result = await self.session.execute(
            update(access_keys)
            .where(
                access_keys.c.id == key_id,
                access_keys.c.user_id == user_id,
                access_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=datetime.now(UTC))
            .returning(access_keys.c.id)
        )
        return result.one_or_none() is not None
