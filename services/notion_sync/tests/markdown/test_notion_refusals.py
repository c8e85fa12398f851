"""Markdown that produced pages Notion would refuse, or that read differently from their
source: each case's input, planned, and every request checked as Notion checks it."""

from typing import Any

import orjson
from assistant_fakes.notion_limits import MAX_BYTES, check_request, length
from block_replay import block_letters, rebuild, source_letters

from notion_sync_service.markdown.blocks import children_of, to_blocks
from notion_sync_service.markdown.plan import Append, plan
from notion_sync_service.markdown.rich_text import plain

Block = dict[str, Any]


def accepted(markdown: str) -> list[Append]:
    """The planned requests, each one checked against Notion's limits (raises if refused)."""
    appends = plan(to_blocks(markdown))
    for append in appends:
        check_request(append.blocks)
        assert len(orjson.dumps({"children": append.blocks})) <= MAX_BYTES
    assert block_letters(rebuild(appends)) == source_letters(markdown)
    return appends


def text(block: Block) -> str:
    return plain(block[block["type"]].get("rich_text", []))


def test_text_after_a_code_block_in_a_tight_list_item_stays_after_it() -> None:
    markdown = (
        "1. Install it:\n   ```bash\n   npm install left-pad\n   ```\n   Then run the tests.\n"
    )
    [append] = accepted(markdown)
    [item] = append.blocks
    assert text(item) == "Install it:"
    code, after = children_of(item)
    assert (code["type"], text(code)) == ("code", "npm install left-pad")
    assert (after["type"], text(after)) == ("paragraph", "Then run the tests.")


def test_a_table_inside_a_list_item_is_created_with_its_rows() -> None:
    markdown = "- Prices:\n\n  | item | price |\n  |---|---|\n  | tea | 2 |\n  | cake | 4 |\n"
    appends = accepted(markdown)
    [table] = [b for a in appends for b in a.blocks if b["type"] == "table"]
    assert len(table["table"]["children"]) == 3  # the header and two rows, with the table


def test_limits_count_as_notion_counts_an_emoji_is_two_units() -> None:
    paragraph = ("x" * 83 + "🙂") * 24  # 2,016 characters; 2,040 UTF-16 units
    [append] = accepted(paragraph)
    items = append.blocks[0]["paragraph"]["rich_text"]
    assert len(items) == 2
    assert all(length(i["text"]["content"]) <= 2000 for i in items)
    assert plain(items) == paragraph
    long_link = "https://example.org/" + "🙂" * 995  # 1,015 characters, 2,010 units
    [append] = accepted(f"[a link]({long_link})")
    assert "link" not in append.blocks[0]["paragraph"]["rich_text"][0]["text"]


def test_a_table_cell_and_a_caption_keep_to_a_hundred_items() -> None:
    styled = " ".join(f"**b{i}** p{i}" for i in range(120))  # 240 items of alternating style
    appends = accepted(f"| a |\n|---|\n| {styled} |\n\n![{styled}](https://example.org/i.png)\n")
    [table, image] = appends[0].blocks
    cell = table["table"]["children"][1]["table_row"]["cells"][0]
    assert len(cell) <= 100
    assert len(image["image"]["caption"]) <= 100
    assert plain(cell).split() == plain(image["image"]["caption"]).split()


def test_a_paragraph_or_code_block_over_500_kb_goes_in_several_requests() -> None:
    cjk = "編集は難しい。" * 40_000  # 280,000 characters, 840 KB of UTF-8
    appends = accepted(cjk)
    assert len(appends) > 1
    code = accepted("```\n" + '"\\' * 150_000 + "\n```\n")  # JSON doubles every character
    assert len(code) > 1


def test_footnotes_keep_their_mark_and_their_definition_ends_the_page() -> None:
    blocks = to_blocks("Kafka[^1] is a log.\n\n[^1]: Named after Franz Kafka.\n\nThe end.\n")
    assert [b["type"] for b in blocks] == ["paragraph", "paragraph", "divider", "paragraph"]
    assert text(blocks[0]) == "Kafka[1] is a log."
    assert text(blocks[1]) == "The end."
    assert text(blocks[3]) == "[1] Named after Franz Kafka."


def test_nul_becomes_the_replacement_character() -> None:
    [append] = accepted("a\0b")
    assert text(append.blocks[0]) == "a\ufffdb"
