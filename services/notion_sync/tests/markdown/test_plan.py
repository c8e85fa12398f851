"""Cutting a block tree into append requests within Notion's limits, losing nothing."""

import json
from typing import Any

from block_replay import rebuild, without_empty_children
from httpx._content import encode_json

from notion_sync_service.markdown.blocks import children_of, to_blocks
from notion_sync_service.markdown.plan import (
    MAX_BYTES,
    MAX_CHILDREN,
    MAX_ELEMENTS,
    fits_beside,
    plan,
)

Block = dict[str, Any]


def depth(block: Block) -> int:
    return 1 + max((depth(c) for c in children_of(block)), default=0)


def long_document() -> str:
    parts = []
    for section in range(80):
        parts.append(f"## Section {section}\n\n" + "word " * 1200 + "\n")
        parts.append("- a\n  - b\n    - c\n      - d\n        - e\n")
        parts.append("```python\nprint('x')\n```\n")
    parts.append("| n | v |\n|---|---|\n" + "\n".join(f"| {i} | {i} |" for i in range(150)))
    return "\n".join(parts)


def test_every_request_is_within_notions_limits() -> None:
    appends = plan(to_blocks(long_document()))
    for append in appends:
        assert len(append.blocks) <= MAX_CHILDREN
        assert all(depth(b) <= 2 for b in append.blocks), "a third level in one request"
        assert all(len(children_of(b)) <= MAX_CHILDREN for b in append.blocks)
        assert sum(1 + len(children_of(b)) for b in append.blocks) <= MAX_ELEMENTS
        assert len(json.dumps(append.blocks).encode()) <= MAX_BYTES


def test_replaying_the_requests_rebuilds_the_document_exactly() -> None:
    blocks = to_blocks(long_document())
    assert len(blocks) >= 300
    appends = plan(blocks)
    assert len([a for a in appends if a.parent == ()]) == -(-len(blocks) // MAX_CHILDREN)
    assert without_empty_children(rebuild(appends)) == without_empty_children(blocks)


def test_a_table_is_created_with_its_first_hundred_rows_and_the_rest_follow() -> None:
    rows = "\n".join(f"| {i} |" for i in range(250))
    appends = plan(to_blocks(f"| n |\n|---|\n{rows}\n"))
    [create, *more] = appends
    assert len(create.blocks[0]["table"]["children"]) == 100
    assert [(a.parent, a.paths[0]) for a in more] == [((0,), (0, 100)), ((0,), (0, 200))]


def test_the_byte_limit_holds_for_the_body_the_client_sends_in_any_script() -> None:
    # Accented and CJK text weighs more in UTF-8 than its length: 90 long paragraphs of it
    # (fewer than 100 blocks, so only the byte limit can cut them).
    paragraph = ("ação não é fácil; 編集は難しい。 " * 190).strip()
    appends = plan(to_blocks("\n\n".join(paragraph for _ in range(90))))
    assert len(appends) > 1
    for append in appends:
        _, body = httpx_body({"children": append.blocks})
        assert len(body) <= MAX_BYTES


def test_a_first_append_goes_with_the_create_only_if_the_whole_request_fits() -> None:
    short = plan(to_blocks("# Title\n\nA short body."))
    fields = {"parent": {"page_id": "p" * 32}, "properties": {"title": {"title": []}}}
    assert fits_beside(short[0], fields)
    _, body = httpx_body({**fields, "children": short[0].blocks})
    assert len(body) <= MAX_BYTES

    paragraph = ("ação não é fácil; 編集は難しい。 " * 190).strip()
    [full, *_] = plan(to_blocks("\n\n".join(paragraph for _ in range(90))))
    room = MAX_BYTES - len(httpx_body({"children": full.blocks})[1])
    crowded = {**fields, "properties": {"title": {"title": [{"text": {"content": "x" * room}}]}}}
    assert not fits_beside(full, crowded)
    assert len(httpx_body({**crowded, "children": full.blocks})[1]) > MAX_BYTES


def httpx_body(payload: Any) -> tuple[dict[str, str], bytes]:
    """The request body exactly as notion-client's httpx encodes it."""
    headers, stream = encode_json(payload)
    return headers, b"".join(stream)
