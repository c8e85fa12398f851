"""Reading and writing users and their settings. Every query names the user it is for."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.models import user_settings, users


class Users:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        email: str,
        username: str,
        password_hash: str,
        full_name: str | None,
        is_admin: bool = False,
    ) -> uuid.UUID:
        user_id = uuid.uuid4()
        await self.session.execute(
            insert(users).values(
                id=user_id,
                email=email.lower(),
                username=username,
                password_hash=password_hash,
                full_name=full_name,
                is_admin=is_admin,
            )
        )
        await self.session.execute(insert(user_settings).values(user_id=user_id))
        return user_id

    async def taken(self, *, email: str, username: str) -> list[str]:
        """Which of email and username another account already uses."""
        rows = await self.session.execute(
            select(users.c.email, users.c.username).where(
                or_(
                    users.c.email == email.lower(), func.lower(users.c.username) == username.lower()
                )
            )
        )
        found = []
        for row in rows:
            if row.email == email.lower():
                found.append("email")
            if row.username.lower() == username.lower():
                found.append("username")
        return sorted(set(found))

    async def username_taken_by_another(self, username: str, user_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(users.c.id).where(
                func.lower(users.c.username) == username.lower(), users.c.id != user_id
            )
        )
        return found is not None

    async def by_login(self, login: str) -> Row[Any] | None:
        """The user whose email or username (either case) is `login`."""
        return (
            await self.session.execute(
                select(users).where(
                    or_(
                        users.c.email == login.lower(),
                        func.lower(users.c.username) == login.lower(),
                    )
                )
            )
        ).one_or_none()

    async def get(self, user_id: uuid.UUID) -> Row[Any] | None:
        return (
            await self.session.execute(select(users).where(users.c.id == user_id))
        ).one_or_none()

    async def update_profile(self, user_id: uuid.UUID, values: dict[str, Any]) -> None:
        if values:
            await self.session.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(**values, updated_at=datetime.now(UTC))
            )

    async def update_settings(self, user_id: uuid.UUID, values: dict[str, Any]) -> None:
        if values:
            await self.session.execute(
                update(user_settings)
                .where(user_settings.c.user_id == user_id)
                .values(**values, updated_at=datetime.now(UTC))
            )

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self.update_profile(user_id, {"password_hash": password_hash})

    async def delete(self, user_id: uuid.UUID) -> None:
        """Removes the user; settings, sessions, keys and credentials go with it (cascade)."""
        await self.session.execute(delete(users).where(users.c.id == user_id))

    async def deactivate(self, user_id: uuid.UUID) -> None:
        await self.update_profile(
            user_id, {"is_active": False, "deactivated_at": datetime.now(UTC)}
        )
