"""Replaying planned append requests as Notion would, and reading the words of a document and
of its blocks, to compare a page with its Markdown."""

import copy
import json
import re
from typing import Any

import pyromark

from notion_sync_service.markdown.blocks import OPTIONS, children_of
from notion_sync_service.markdown.plan import Append
from notion_sync_service.markdown.rich_text import plain

Block = dict[str, Any]


def rebuild(appends: list[Append]) -> list[Block]:
    """Replays the appends as Notion would: each under the block its path names."""
    page: list[Block] = []
    created: dict[tuple[int, ...], Block] = {}

    def register(block: Block, path: tuple[int, ...]) -> None:
        created[path] = block
        for index, child in enumerate(children_of(block)):
            register(child, (*path, index))

    for append in appends:
        if append.parent == ():
            target = page
        else:
            parent = created[append.parent]
            target = parent[parent["type"]].setdefault("children", [])
        for block, path in zip(append.blocks, append.paths, strict=True):
            assert path == (*append.parent, len(target)), "appended out of order"
            placed = copy.deepcopy(block)
            target.append(placed)
            register(placed, path)
    return page


def without_empty_children(blocks: list[Block]) -> list[Block]:
    cleaned: list[Block] = json.loads(json.dumps(blocks).replace(', "children": []', ""))
    return cleaned


TEXT_EVENTS = ("Text", "Code", "Html", "InlineHtml", "InlineMath", "DisplayMath")


def letters(text: str) -> str:
    """The word characters of a text, in order (spacing and punctuation aside: a page lays
    them out differently)."""
    return "".join(re.findall(r"\w+", text))


def source_letters(markdown: str) -> str:
    """The letters of a Markdown document in the order its parser reads them, footnote
    definitions moved to the end (where a Notion page shows them)."""
    body: list[str] = []
    notes: list[str] = []
    inside = 0  # depth of footnote definitions around the current event
    images: list[int] = []  # where the alt text of each open image starts
    for event in pyromark.events(markdown.replace("\0", "\ufffd"), options=OPTIONS):
        if not isinstance(event, dict):
            continue
        key, value = next(iter(event.items()))
        target = notes if inside else body
        if key == "Start" and isinstance(value, dict) and "Image" in value:
            images.append(len("".join(target)))
        elif key == "End" and value == "Image" and len("".join(target)) == images.pop():
            target.append("image")  # an image without alt text is called so
        elif key == "Start" and isinstance(value, dict) and "FootnoteDefinition" in value:
            inside += 1
            notes.append(letters(value["FootnoteDefinition"]))
        elif key == "End" and value == "FootnoteDefinition":
            inside -= 1
        elif key in TEXT_EVENTS or key == "FootnoteReference":
            target.append(letters(str(value)))
    return "".join(body + notes)


def block_letters(blocks: list[Block]) -> str:
    """The letters of blocks as a Notion page shows them: each block's text, then its
    children's."""
    found: list[str] = []
    for block in blocks:
        content = block[block["type"]]
        texts = [*content.get("rich_text", []), *content.get("caption", [])]
        texts += [item for cell in content.get("cells", []) for item in cell]
        found.append(letters(plain(texts) + content.get("expression", "")))
        found.append(block_letters(children_of(block)))
    return "".join(found)
