"""Where a page goes and what it is called: its parent, title and properties.

Under a page the only property is the title. Under a database (Notion API 2025-09-03: a
database holds data sources, whose schema names the properties) the title goes in the title
property, and the save's tags, provider, model and origin go in properties of those names
(any case) when the schema has them with a type that can hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notion_client import APIErrorCode, AsyncClient
from notion_client.errors import APIResponseError

from assistant_schemas.notion import NotionPageRequestedPayload
from notion_sync_service.markdown.blocks import Block
from notion_sync_service.markdown.rich_text import plain
from notion_sync_service.notion_api import SaveRefused, translated

MAX_TITLE = 2000
CREATED_BY = "Notion Assistant"


@dataclass(frozen=True)
class PageTarget:
    parent: dict[str, str]
    properties: dict[str, Any]


def title_of(payload: NotionPageRequestedPayload, blocks: list[Block]) -> str:
    """The request's title, else the document's first heading, else its first line."""
    if payload.title and payload.title.strip():
        return payload.title.strip()[:MAX_TITLE]
    for block in blocks:
        if block["type"] in ("heading_1", "heading_2", "heading_3"):
            return plain(block[block["type"]]["rich_text"])[:MAX_TITLE] or "Untitled"
    first_line = payload.markdown.strip().split("\n", 1)[0].strip("# ").strip()
    return first_line[:200] or "Untitled"


def not_shared(kind: str, parent_id: str) -> SaveRefused:
    return SaveRefused(
        f"the parent {kind} {parent_id} is not shared with the integration (or does not exist): "
        "in Notion, open it, choose Connections and add the integration, then save again"
    )


async def resolve(
    client: AsyncClient, payload: NotionPageRequestedPayload, parent_id: str, title: str
) -> PageTarget:
    title_value = {"title": [{"type": "text", "text": {"content": title}}]}
    if payload.parent_type != "database":
        return PageTarget({"type": "page_id", "page_id": parent_id}, {"title": title_value})
    try:
        database: Any = await client.databases.retrieve(database_id=parent_id)
        sources = database.get("data_sources") or []
        if not sources:
            raise SaveRefused(f"the database {parent_id} has no data source to add pages to")
        source: Any = await client.data_sources.retrieve(data_source_id=sources[0]["id"])
    except APIResponseError as error:
        if error.code == APIErrorCode.ObjectNotFound:
            raise not_shared("database", parent_id) from error
        raise translated(error, doing="reading the parent database") from error
    properties = _database_properties(source.get("properties", {}), payload, title_value)
    return PageTarget({"type": "data_source_id", "data_source_id": source["id"]}, properties)


def _database_properties(
    schema: dict[str, Any], payload: NotionPageRequestedPayload, title_value: dict[str, Any]
) -> dict[str, Any]:
    title_property = next((n for n, p in schema.items() if p.get("type") == "title"), None)
    if title_property is None:
        raise SaveRefused(
            "the parent database has no title property: add one (every page needs a title)"
        )
    properties: dict[str, Any] = {title_property: title_value}
    wanted: dict[str, list[str]] = {
        "tags": payload.tags,
        "provider": [payload.provider] if payload.provider else [],
        "model": [payload.model] if payload.model else [],
        "created by": [CREATED_BY],
        "created-by": [CREATED_BY],
    }
    for name, spec in schema.items():
        values = wanted.get(name.lower())
        if values:
            value = _property_value(spec.get("type"), values)
            if value is not None:
                properties[name] = value
    return properties


def _property_value(kind: str | None, values: list[str]) -> dict[str, Any] | None:
    if kind == "multi_select":
        return {"multi_select": [{"name": v[:100].replace(",", " ")} for v in values]}
    if kind == "select":
        return {"select": {"name": values[0][:100].replace(",", " ")}}
    if kind == "rich_text":
        return {"rich_text": [{"type": "text", "text": {"content": ", ".join(values)[:2000]}}]}
    return None
