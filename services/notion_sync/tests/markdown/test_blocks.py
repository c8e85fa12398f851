"""Markdown into Notion blocks: structure, formatting and Notion's text limits."""

from typing import Any

from notion_sync_service.markdown.blocks import children_of, to_blocks
from notion_sync_service.markdown.rich_text import MAX_TEXT, plain


def kinds(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["type"] for b in blocks]


def text_of(block: dict[str, Any]) -> str:
    return plain(block[block["type"]]["rich_text"])


def test_headings_beyond_three_levels_map_to_the_third() -> None:
    blocks = to_blocks("# a\n## b\n### c\n#### d\n###### f\n")
    assert kinds(blocks) == ["heading_1", "heading_2", "heading_3", "heading_3", "heading_3"]
    assert [text_of(b) for b in blocks] == ["a", "b", "c", "d", "f"]


def test_inline_formatting_becomes_annotations_and_links() -> None:
    [paragraph] = to_blocks("plain **bold** *it* ~~gone~~ `code` [site](https://example.org)")
    items = paragraph["paragraph"]["rich_text"]
    styled = {i["text"]["content"]: i["annotations"] for i in items}
    assert styled["bold"]["bold"]
    assert styled["it"]["italic"]
    assert styled["gone"]["strikethrough"]
    assert styled["code"]["code"]
    link = next(i for i in items if i["text"]["content"] == "site")
    assert link["text"]["link"] == {"url": "https://example.org"}


def test_long_text_splits_between_words_and_keeps_every_character_and_its_format() -> None:
    words = " ".join(f"word{i}" for i in range(1500))  # about 11,000 characters
    [paragraph] = to_blocks(f"**{words}**")
    items = paragraph["paragraph"]["rich_text"]
    assert len(items) > 5
    assert all(len(i["text"]["content"]) <= MAX_TEXT for i in items)
    assert all(i["annotations"]["bold"] for i in items)
    assert all(not i["text"]["content"].startswith(" ") for i in items[1:])  # cut after spaces
    assert plain(items) == words


def test_lists_nest_and_tasks_keep_their_state() -> None:
    markdown = "- one\n  - two\n    - three\n      - four\n1. first\n- [x] done\n- [ ] open\n"
    blocks = to_blocks(markdown)
    depth, node = 1, blocks[0]
    while children_of(node):
        node, depth = children_of(node)[0], depth + 1
    assert depth == 4
    assert text_of(node) == "four"
    assert kinds(blocks) == ["bulleted_list_item", "numbered_list_item", "to_do", "to_do"]
    assert [b["to_do"]["checked"] for b in blocks[2:]] == [True, False]
    assert text_of(blocks[2]) == "done"


def test_quotes_callouts_code_dividers_equations_and_images() -> None:
    markdown = (
        "> quoted\n\n> [!WARNING]\n> careful\n\n```ts\nlet x = 1\n```\n\n---\n\n"
        "$$\nE = mc^2\n$$\n\n![a cat](https://example.org/cat.png)\n"
    )
    blocks = to_blocks(markdown)
    assert kinds(blocks) == ["quote", "callout", "code", "divider", "equation", "image"]
    assert text_of(blocks[1]) == "careful"
    assert blocks[2]["code"]["language"] == "typescript"
    assert blocks[4]["equation"]["expression"] == "E = mc^2"
    assert blocks[5]["image"]["external"]["url"] == "https://example.org/cat.png"


def test_an_enormous_code_block_is_split_without_losing_a_character() -> None:
    code = "\n".join(f"line_{i} = {i} * 2  # comment" for i in range(12_000))  # ~370 KB
    blocks = to_blocks(f"```python\n{code}\n```\n")
    assert set(kinds(blocks)) == {"code"}
    assert len(blocks) > 1
    assert all(len(b["code"]["rich_text"]) <= 100 for b in blocks)
    assert "".join(text_of(b) for b in blocks) == code


def test_tables_keep_rows_and_pad_short_ones() -> None:
    rows = "\n".join(f"| {i} | value {i} |" for i in range(40))
    [table] = to_blocks(f"| n | v |\n|---|---|\n{rows}\n| short |\n")
    content = table["table"]
    assert content["table_width"] == 2
    assert content["has_column_header"]
    assert len(content["children"]) == 42
    assert [plain(c) for c in content["children"][-1]["table_row"]["cells"]] == ["short", ""]


def test_unsafe_or_foreign_input_becomes_plain_text() -> None:
    blocks = to_blocks(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n![cat](ftp://cat.png)\n"
    )
    assert kinds(blocks) == ["paragraph", "paragraph", "paragraph"]
    assert "alert(1)" in text_of(blocks[0])
    link = blocks[1]["paragraph"]["rich_text"][0]["text"]
    assert "link" not in link  # only http(s) and mailto links reach Notion
    assert text_of(blocks[2]) == "cat"
