"""A long document written with the real notion-client to a local server that enforces
Notion's limits, then read back: every request is accepted and the page holds the document."""

from collections.abc import Iterator
from typing import Any

import pytest
from assistant_fakes.notion import FakeNotion
from assistant_fakes.notion_reading import comparable, read_tree
from notion_client import AsyncClient

from notion_sync_fakes import served
from notion_sync_service.markdown.blocks import to_blocks
from notion_sync_service.markdown.plan import plan
from notion_sync_service.writer import DocumentWriter

TOKEN = "secret_test_token"


@pytest.fixture(scope="module")
def notion() -> Iterator[tuple[FakeNotion, str]]:
    fake = FakeNotion({TOKEN})
    with served(fake) as url:
        yield fake, url


def document() -> str:
    parts = []
    for section in range(80):
        parts.append(f"## Section {section}\n\n" + "word " * 1100 + "\n")  # 5,500 characters
        parts.append("- a\n  - b\n    - c\n      - **d**\n")
        parts.append(f"```python\nprint({section})\n```\n")
    parts.append("| n | v |\n|---|---|\n" + "\n".join(f"| {i} | {i * i} |" for i in range(40)))
    return "\n".join(parts)


async def test_a_long_document_is_accepted_and_reads_back_exactly(
    notion: tuple[FakeNotion, str],
) -> None:
    fake, url = notion
    markdown = document()
    blocks = to_blocks(markdown)
    assert len(blocks) >= 300
    client = AsyncClient(auth=TOKEN, base_url=url)
    root = fake.add_page()
    page = await client.pages.create(parent={"page_id": root}, properties={})
    writer = DocumentWriter(client, page["id"])
    await writer.write(plan(blocks))
    written = await read_tree(client, page["id"])
    assert comparable(written) == comparable(blocks)
    appends = [call for call in fake.state.calls if call[1] == "PATCH"]
    assert len(appends) >= 4  # four top-level batches, then the deeper levels


async def test_the_server_refuses_what_notion_refuses(notion: tuple[FakeNotion, str]) -> None:
    fake, url = notion
    client = AsyncClient(auth=TOKEN, base_url=url)
    page: Any = await client.pages.create(parent={"page_id": fake.add_page()}, properties={})
    too_long = {
        "type": "paragraph",
        "paragraph": {"rich_text": [{"type": "text", "text": {"content": "x" * 2001}}]},
    }
    with pytest.raises(Exception, match="2000"):
        await client.blocks.children.append(block_id=page["id"], children=[too_long])
    deep = to_blocks("- a\n  - b\n    - c\n")  # three levels in one request
    with pytest.raises(Exception, match="two levels"):
        await client.blocks.children.append(block_id=page["id"], children=deep)


async def test_a_resuming_writer_tells_whether_the_append_in_doubt_landed(
    notion: tuple[FakeNotion, str],
) -> None:
    fake, url = notion
    client = AsyncClient(auth=TOKEN, base_url=url)
    appends = plan(to_blocks(document()))
    page: Any = await client.pages.create(parent={"page_id": fake.add_page()}, properties={})
    first = DocumentWriter(client, page["id"])
    recorded: list[int] = []

    async def checkpoint(done: int) -> None:
        recorded.append(done)

    await first.write(appends[:6], 0, checkpoint)
    assert recorded == [1, 2, 3, 4, 5, 6]
    # A writer died after append 6 landed, before recording it: its successor finds it landed.
    await first.append(appends[6])
    resumed = DocumentWriter(client, page["id"])
    assert await resumed.landed(appends, 6) == 7
    # ... and one that died before its append reached Notion redoes it.
    assert await DocumentWriter(client, page["id"]).landed(appends, 7) == 7
    await resumed.write(appends, 7)
    assert comparable(await read_tree(client, page["id"])) == comparable(to_blocks(document()))


async def test_malformed_markdown_still_becomes_blocks_notion_accepts(
    notion: tuple[FakeNotion, str],
) -> None:
    fake, url = notion
    markdown = "\n\n".join(
        [
            "| a | b\n|---\n| 1 | 2 | 3 | 4 |\n| only |",  # ragged table, header row short
            "| x | y |\n|---|---|\n| 1 |\n| 1 | 2 | 3 |",  # rows shorter and longer than it
            "<div><p>unclosed <b>html",
            "![bad](not-a-url) ![worse](javascript:alert(1)) ![long](https://e.org/"
            + "a" * 3000
            + ".png)",
            "```\n" + "x = 1\n" * 40_000 + "```",  # an enormous code block, no language
            "- [ ] \n- [x]",  # empty tasks
            "$$\n$$",  # an empty equation
        ]
    )
    blocks = to_blocks(markdown)
    client = AsyncClient(auth=TOKEN, base_url=url)
    page: Any = await client.pages.create(parent={"page_id": fake.add_page()}, properties={})
    await DocumentWriter(client, page["id"]).write(plan(blocks))  # Notion refuses nothing
    written = await read_tree(client, page["id"])
    assert comparable(written) == comparable(blocks)
    tables = [b for b in blocks if b["type"] == "table"]
    for table in tables:
        width = table["table"]["table_width"]
        assert all(len(row["table_row"]["cells"]) == width for row in table["table"]["children"])
