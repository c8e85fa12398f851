"""The catalogue projection: what generation last announced of the model catalogue.

Generation is the single writer of the catalogue; the gateway mirrors its `catalog.changed`
announcements (a lower version than the one applied is ignored), so it checks and lists
models without asking generation, and accepts work while generation is down.
"""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_schemas.catalog import CatalogResultPayload
from gateway_service.models import catalog_projection


async def record(session: AsyncSession, catalogue: CatalogResultPayload) -> None:
    """Applies an announced catalogue unless a newer one was applied already."""
    values = catalogue.model_dump(mode="json")
    statement = insert(catalog_projection).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["singleton"],
        set_={**values, "updated_at": statement.excluded.updated_at},
        where=catalog_projection.c.version < statement.excluded.version,
    )
    await session.execute(statement)


async def latest(session: AsyncSession) -> CatalogResultPayload | None:
    """The catalogue applied last; None until generation has announced one."""
    columns = catalog_projection.c
    found = (
        await session.execute(select(columns.providers, columns.models, columns.version))
    ).one_or_none()
    if found is None:
        return None
    return CatalogResultPayload(
        providers=found.providers, models=found.models, version=found.version
    )
