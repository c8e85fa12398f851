"""Access API keys: `na_<8 visible>_<secret>`, stored as a SHA-256 hash beside the visible prefix.

The whole key is shown once, at creation. Lookups go by hash, so a key is checked without
comparing secrets in Python. `last_used_at` is written at most once a minute per key, so a busy
machine client does not turn every request into a write.
"""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.accounts.repository import Account
from gateway_service.models import access_keys, users

KEY_PREFIX = "na_"
SCOPES = ("account", "generate", "documents", "search", "usage", "notion")
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


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
                    key_hash=_hash(key),
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

    async def authenticate(self, key: str) -> tuple[Account, frozenset[str]] | None:
        """The account and scopes of a live key, in one query, recording the key's use; None if
        the key is unknown, revoked or expired."""
        now = datetime.now(UTC)
        row = (
            await self.session.execute(
                select(
                    access_keys.c.id,
                    access_keys.c.user_id,
                    access_keys.c.scopes,
                    access_keys.c.last_used_at,
                    users.c.is_active,
                    users.c.is_admin,
                    users.c.plan_tier,
                )
                .join(users, users.c.id == access_keys.c.user_id)
                .where(
                    access_keys.c.key_hash == _hash(key),
                    access_keys.c.revoked_at.is_(None),
                    or_(access_keys.c.expires_at.is_(None), access_keys.c.expires_at > now),
                )
            )
        ).one_or_none()
        if row is None:
            return None
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            await self.session.execute(
                update(access_keys).where(access_keys.c.id == row.id).values(last_used_at=now)
            )
            await self.session.commit()
        account = Account(row.user_id, row.is_active, row.is_admin, row.plan_tier)
        return account, frozenset(row.scopes)
