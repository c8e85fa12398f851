"""Appending a planned document to a Notion page, request by request, in order.

A request's blocks come back with their ids; a block created as a child inside an earlier
request (or by an earlier writer of the same page) has its id looked up, by listing its
parent's children, the first time something must be appended under it.

An append addresses position `k` onwards of its parent (its first path ends in `k`), so the
parent holds exactly `k` children before it and `k + len(blocks)` after: that is how a writer
resuming after a crash tells whether the append it was doing landed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from notion_client import AsyncClient

from notion_sync_service.markdown.plan import Append, Path
from notion_sync_service.notion_api import SaveRefused

Checkpoint = Callable[[int], Awaitable[None]]  # called with the number of appends done


class DocumentWriter:
    def __init__(self, client: AsyncClient, page_id: str) -> None:
        self.client = client
        self.ids: dict[Path, str] = {(): page_id}

    async def write(
        self, appends: list[Append], start: int = 0, checkpoint: Checkpoint | None = None
    ) -> None:
        for index in range(start, len(appends)):
            await self.append(appends[index])
            if checkpoint is not None:
                await checkpoint(index + 1)

    async def landed(self, appends: list[Append], done: int) -> int:
        """How many appends are done, given that `done` were recorded and the one after may
        have landed unrecorded."""
        if done >= len(appends):
            return done
        append = appends[done]
        before = append.paths[0][-1]
        children = await self._list_children(append.parent)
        if children == before:
            return done
        if children == before + len(append.blocks):
            return done + 1
        raise SaveRefused(
            "the page was changed in Notion while it was being written "
            f"({children} blocks where {before} or {before + len(append.blocks)} were expected): "
            "delete it and save again"
        )

    async def append(self, append: Append) -> None:
        parent = await self._id_of(append.parent)
        result: Any = await self.client.blocks.children.append(
            block_id=parent, children=append.blocks
        )
        for path, created in zip(append.paths, result["results"], strict=True):
            self.ids[path] = created["id"]

    async def _id_of(self, path: Path) -> str:
        if path not in self.ids:
            await self._list_children(path[:-1])
        return self.ids[path]

    async def _list_children(self, parent_path: Path) -> int:
        """Lists every child of the block at `parent_path`, recording their ids; returns how
        many there are."""
        parent = await self._id_of(parent_path)
        cursor: str | None = None
        index = 0
        while True:
            page: Any = await self.client.blocks.children.list(
                block_id=parent, page_size=100, **({"start_cursor": cursor} if cursor else {})
            )
            for child in page["results"]:
                self.ids.setdefault((*parent_path, index), child["id"])
                index += 1
            cursor = page.get("next_cursor")
            if not page.get("has_more"):
                return index
