"""Appending a planned document to a Notion page, request by request, in order.

A request's blocks come back with their ids; a block created as a child inside an earlier
request has its id looked up (by listing its parent's children) the first time something must
be appended under it.
"""

from __future__ import annotations

from typing import Any

from notion_client import AsyncClient

from notion_sync_service.markdown.plan import Append, Path


class DocumentWriter:
    def __init__(self, client: AsyncClient, page_id: str) -> None:
        self.client = client
        self.ids: dict[Path, str] = {(): page_id}
        self.calls = 0  # Notion API calls made, for usage

    async def write(self, appends: list[Append]) -> None:
        for append in appends:
            await self.append(append)

    async def append(self, append: Append) -> None:
        parent = await self._id_of(append.parent)
        result: Any = await self.client.blocks.children.append(
            block_id=parent, children=append.blocks
        )
        self.calls += 1
        for path, created in zip(append.paths, result["results"], strict=True):
            self.ids[path] = created["id"]

    async def _id_of(self, path: Path) -> str:
        if path not in self.ids:
            parent = await self._id_of(path[:-1])
            cursor: str | None = None
            index = 0
            while True:
                page: Any = await self.client.blocks.children.list(
                    block_id=parent, page_size=100, **({"start_cursor": cursor} if cursor else {})
                )
                self.calls += 1
                for child in page["results"]:
                    self.ids.setdefault((*path[:-1], index), child["id"])
                    index += 1
                cursor = page.get("next_cursor")
                if not page.get("has_more") or path in self.ids:
                    break
        return self.ids[path]
