"""Cutting a tree of blocks into append requests Notion accepts.

Notion takes at most 100 blocks in any children array, two levels of nesting per request (the
blocks appended and their children), 1,000 block elements and 500 KB per request. The plan
appends level by level: a request carries blocks with at most their first children; deeper
levels, and the tail of a list longer than 100, follow in later requests addressed to the
block they belong under (named by its path in the tree, since its id is known only once it
exists). Requests to one parent keep the document's order. A table is created with its rows,
so one nested in another block waits for a request of its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from notion_sync_service.markdown.blocks import Block, children_of

MAX_CHILDREN = 100
MAX_ELEMENTS = 1000
MAX_BYTES = 500_000
Path = tuple[int, ...]  # () is the page; (3, 0) is the first child of the fourth block


@dataclass
class Append:
    """One `PATCH /v1/blocks/{parent}/children` request."""

    parent: Path
    blocks: list[Block] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # of each block appended
    elements: int = 0
    size: int = 0


@dataclass(frozen=True)
class _Pending:
    parent: Path
    children: list[Block]
    first_index: int


def plan(blocks: list[Block]) -> list[Append]:
    appends: list[Append] = []
    queue = deque([_Pending((), blocks, 0)])
    while queue:
        pending = queue.popleft()
        current = Append(pending.parent)
        for offset, original in enumerate(pending.children):
            path = (*pending.parent, pending.first_index + offset)
            shallow, deferred, size = _one_request_deep(original, path)
            elements = _elements(shallow)
            if current.blocks and (
                len(current.blocks) == MAX_CHILDREN
                or current.elements + elements > MAX_ELEMENTS
                or current.size + size > MAX_BYTES
            ):
                appends.append(current)
                current = Append(pending.parent)
            current.blocks.append(shallow)
            current.paths.append(path)
            current.elements += elements
            current.size += size
            queue.extend(deferred)
        if current.blocks:
            appends.append(current)
    return appends


def fits_beside(append: Append, fields: dict[str, Any]) -> bool:
    """Whether the append's blocks fit as the `children` of a request that also carries
    `fields` (a page's parent and properties, when it is created with its first blocks)."""
    return append.size + _size({**fields, "children": []}) <= MAX_BYTES


def _one_request_deep(original: Block, path: Path) -> tuple[Block, list[_Pending], int]:
    """The block with as many of its children as one request takes (children without theirs),
    the rest to append later, and the block's size in the request."""
    children = children_of(original)
    if not children:
        return original, [], _size(original)
    kind = original["type"]
    kept: list[Block] = []
    deferred: list[_Pending] = []
    budget = MAX_BYTES // 2  # leaves room for the block's siblings in the request
    kept_size = 0
    for index, child in enumerate(children[:MAX_CHILDREN]):
        grandchildren = children_of(child)
        if child["type"] == "table":
            break  # Notion creates a table only with rows: it and what follows go later
        bare = _without_children(child) if grandchildren else child
        size = _size(bare)
        if kept and kept_size + size > budget:
            break
        kept.append(bare)
        kept_size += size + len(", ")
        if grandchildren:
            deferred.append(_Pending((*path, index), grandchildren, 0))
    if len(kept) < len(children):
        deferred.insert(0, _Pending(path, children[len(kept) :], len(kept)))
    shallow = {**original, kind: {**original[kind], "children": kept}}
    # The block's own JSON, with an empty children array the kept children then fill.
    own = {**original, kind: {**original[kind], "children": []}}
    return shallow, deferred, _size(own) + kept_size


def _without_children(item: Block) -> Block:
    kind = item["type"]
    content = {k: v for k, v in item[kind].items() if k != "children"}
    return {**item, kind: content}


def _elements(item: Block) -> int:
    return 1 + sum(_elements(child) for child in children_of(item))


def _size(item: Any) -> int:
    """Bytes of the item's JSON, as sent (UTF-8)."""
    return len(orjson.dumps(item))
