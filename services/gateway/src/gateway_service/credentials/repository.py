"""Stored credentials of one user at a time."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.models import provider_credentials


class Credentials:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self,
        user_id: uuid.UUID,
        provider: str,
        *,
        ciphertext: str,
        fingerprint: str,
        masked: str,
        base_url: str | None,
    ) -> Row[Any]:
        values = {
            "ciphertext": ciphertext,
            "fingerprint": fingerprint,
            "masked": masked,
            "base_url": base_url,
            "updated_at": datetime.now(UTC),
        }
        statement = (
            insert(provider_credentials)
            .values(id=uuid.uuid4(), user_id=user_id, provider=provider, **values)
            .on_conflict_do_update(index_elements=["user_id", "provider"], set_=values)
            .returning(provider_credentials)
        )
        row: Row[Any] = (await self.session.execute(statement)).one()
        return row

    async def of_user(self, user_id: uuid.UUID) -> list[Row[Any]]:
        rows = await self.session.execute(
            select(provider_credentials)
            .where(provider_credentials.c.user_id == user_id)
            .order_by(provider_credentials.c.provider)
        )
        return list(rows)

    async def remove(self, user_id: uuid.UUID, provider: str) -> bool:
        result = await self.session.execute(
            delete(provider_credentials)
            .where(
                provider_credentials.c.user_id == user_id,
                provider_credentials.c.provider == provider,
            )
            .returning(provider_credentials.c.id)
        )
        return result.one_or_none() is not None
