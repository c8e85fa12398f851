"""Users' own provider keys, kept as the gateway's ciphertext (`credentials.updated`); read
with a job's claim (`job_store`) and decrypted only to call."""

import uuid

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from generation_service.models import provider_credentials


async def put(
    session: AsyncSession,
    user_id: uuid.UUID,
    provider: str,
    ciphertext: str,
    base_url: str | None,
    fingerprint: str | None,
) -> None:
    values = {"ciphertext": ciphertext, "base_url": base_url, "fingerprint": fingerprint}
    statement = insert(provider_credentials).values(user_id=user_id, provider=provider, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "provider"], set_={**values, "updated_at": func.now()}
        )
    )


async def remove(session: AsyncSession, user_id: uuid.UUID, provider: str | None = None) -> None:
    """Removes one credential of the user, or all of them when `provider` is None."""
    statement = delete(provider_credentials).where(provider_credentials.c.user_id == user_id)
    if provider is not None:
        statement = statement.where(provider_credentials.c.provider == provider)
    await session.execute(statement)
