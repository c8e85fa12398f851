"""Opaque refresh tokens, stored only as SHA-256 hashes, rotated on every use.

Each login starts a family. Refreshing marks the presented token rotated and issues the next one
in the same family. Presenting a token that was already rotated means it leaked (the thief or
the owner used it first), so the whole family is revoked: both parties must log in again.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.models import refresh_tokens


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Rotation:
    user_id: uuid.UUID
    token: str


class RefreshRejected(Exception):
    """The refresh token is unknown, expired, revoked, or a reused one (family now revoked)."""


class RefreshTokens:
    def __init__(self, session: AsyncSession, lifetime: timedelta) -> None:
        self.session = session
        self.lifetime = lifetime

    async def start_family(self, user_id: uuid.UUID) -> str:
        return await self._issue(user_id, family_id=uuid.uuid4())

    async def rotate(self, token: str) -> Rotation:
        row = (
            await self.session.execute(
                select(refresh_tokens)
                .where(refresh_tokens.c.token_hash == _hash(token))
                .with_for_update()
            )
        ).one_or_none()
        now = datetime.now(UTC)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise RefreshRejected("refresh token is not valid; log in again")
        if row.rotated_at is not None:
            await self.revoke_family(row.family_id)
            raise RefreshRejected("refresh token was already used; every session of it is revoked")
        await self.session.execute(
            update(refresh_tokens).where(refresh_tokens.c.id == row.id).values(rotated_at=now)
        )
        return Rotation(row.user_id, await self._issue(row.user_id, family_id=row.family_id))

    async def revoke_by_token(self, token: str) -> bool:
        family = await self.session.scalar(
            select(refresh_tokens.c.family_id).where(refresh_tokens.c.token_hash == _hash(token))
        )
        if family is None:
            return False
        await self.revoke_family(family)
        return True

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )

    async def _issue(self, user_id: uuid.UUID, *, family_id: uuid.UUID) -> str:
        token = secrets.token_urlsafe(32)
        await self.session.execute(
            insert(refresh_tokens).values(
                id=uuid.uuid4(),
                user_id=user_id,
                family_id=family_id,
                token_hash=_hash(token),
                expires_at=datetime.now(UTC) + self.lifetime,
            )
        )
        return token


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revokes every refresh token of a user: every device must log in again."""
    await session.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
