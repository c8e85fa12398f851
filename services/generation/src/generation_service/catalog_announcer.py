"""Announcing the whole catalogue (`catalog.changed`), so readers keep their own copy: after
each change, in its transaction, and when the service starts (the first announcement of the
seeded catalogue, and any a migration changed)."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import new_event
from assistant_schemas.catalog import CatalogChangedV1, CatalogResultPayload
from generation_service import catalog


async def announce(
    session: AsyncSession, outbox: Outbox, correlation_id: str
) -> CatalogResultPayload:
    """The catalogue as this transaction leaves it, under a new version, also staged for
    publishing."""
    version = await catalog.next_version(session)
    current = (await catalog.load(session)).payload(version)
    event = new_event(
        CatalogChangedV1, current, correlation_id=correlation_id, producer="generation"
    )
    await outbox.add(session, event)
    return current


class CatalogAnnouncer:
    """Announces the catalogue once when the service starts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox

    async def start(self) -> None:
        async with self._sessions() as session, session.begin():
            await announce(session, self._outbox, "startup")

    async def stop(self) -> None:
        return None
