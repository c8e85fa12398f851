"""Reading back what a service stored: the rows of a query, as column → value mappings."""

from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncEngine


async def rows(engine: AsyncEngine, sql: str, **parameters: Any) -> list[RowMapping]:
    async with engine.connect() as connection:
        return [row._mapping for row in await connection.execute(text(sql), parameters)]
