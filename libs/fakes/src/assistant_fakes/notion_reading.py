"""Reading a page back through the real notion-client, to compare with what was written."""

from typing import Any

from notion_client import AsyncClient

Block = dict[str, Any]


async def read_tree(client: AsyncClient, block_id: str) -> list[Block]:
    """A page's blocks, with their children nested as Notion would take them."""
    blocks: list[Block] = []
    cursor = None
    while True:
        page: Any = await client.blocks.children.list(
            block_id=block_id, **({"start_cursor": cursor} if cursor else {})
        )
        for item in page["results"]:
            if item["has_children"]:
                item[item["type"]]["children"] = await read_tree(client, item["id"])
            blocks.append(item)
        if not page["has_more"]:
            return blocks
        cursor = page["next_cursor"]


def comparable(blocks: list[Block]) -> list[Any]:
    """Type, content and children, whatever the shape Notion returns them in."""
    out = []
    for item in blocks:
        kind = item["type"]
        content = {k: v for k, v in item[kind].items() if k != "children"}
        out.append((kind, content, comparable(item[kind].get("children", []))))
    return out
