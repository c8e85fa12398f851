"""Markdown the team did not write, planned into requests that Notion would accept.

The corpus: the CommonMark spec's examples and the spec itself (npm `commonmark-spec`), and the
README of every installed Python package written in Markdown. Every planned request is checked
against the limits Notion documents, counted as Notion counts (`assistant_fakes.notion_limits`),
and all of them at once against the official SDK's published TypeScript types (`tsc` on
`AppendBlockChildrenParameters`); replaying the requests rebuilds the document's blocks.
"""

import json
import re
import subprocess
from email.parser import Parser
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import pytest
from assistant_fakes.notion_limits import MAX_BYTES, NotionError, check_request
from block_replay import block_letters, rebuild, source_letters, without_empty_children
from httpx._content import encode_json

from notion_sync_service.markdown.blocks import to_blocks
from notion_sync_service.markdown.plan import Append, plan

TYPES = Path(__file__).parents[1] / "notion_types"
SPEC = TYPES / "node_modules" / "commonmark-spec" / "spec.txt"
TSC = str(TYPES / "node_modules" / ".bin" / "tsc")
EXAMPLE = re.compile(r"^`{32} example\n([\s\S]*?)^\.\n[\s\S]*?^`{32}$", re.MULTILINE)


def commonmark_examples() -> list[str]:
    text = SPEC.read_text()
    return [m.group(1).replace("→", "\t") for m in EXAMPLE.finditer(text)] + [text]


def package_readmes() -> list[str]:
    found = {}
    for distribution in distributions():
        metadata = distribution.read_text("METADATA") or ""
        headers = Parser().parsestr(metadata, headersonly=True)
        if "markdown" in (headers.get("Description-Content-Type") or ""):
            body = Parser().parsestr(metadata).get_payload()
            if isinstance(body, str) and body.strip():
                found[headers["Name"]] = body
    return list(found.values())


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    examples, readmes = commonmark_examples(), package_readmes()
    assert len(examples) == 653  # the spec's 652 examples and the spec itself
    assert len(readmes) > 50
    return examples + readmes


@pytest.fixture(scope="module")
def planned(corpus: list[str]) -> list[tuple[str, list[Append]]]:
    return [(document, plan(to_blocks(document))) for document in corpus]


def test_every_request_is_within_notions_documented_limits(
    planned: list[tuple[str, list[Append]]],
) -> None:
    refused = []
    for document, appends in planned:
        for append in appends:
            _, stream = encode_json({"children": append.blocks})  # as notion-client sends it
            try:
                check_request(append.blocks)
                if len(b"".join(stream)) > MAX_BYTES:
                    raise NotionError(413, "payload_too_large", "over 500 KB")
            except NotionError as error:
                refused.append(f"{error.message} in {document[:80]!r}")
    assert not refused, "\n".join(refused[:20])


def test_replaying_the_requests_rebuilds_every_document(
    planned: list[tuple[str, list[Append]]],
) -> None:
    for document, appends in planned:
        blocks = to_blocks(document)
        assert without_empty_children(rebuild(appends)) == without_empty_children(blocks), document[
            :200
        ]


def test_every_page_reads_as_its_markdown_in_the_same_order(
    planned: list[tuple[str, list[Append]]],
) -> None:
    """Nothing lost, nothing moved: a page holds the document's words in the document's order
    (text after a code block in a list item once moved in front of it)."""
    differ = [
        document[:120]
        for document, appends in planned
        if block_letters(rebuild(appends)) != source_letters(document)
    ]
    assert not differ, f"{len(differ)} documents differ, e.g. {differ[:5]}"


def test_every_request_has_the_types_of_notions_official_sdk(
    planned: list[tuple[str, list[Append]]], tmp_path: Path
) -> None:
    bodies: list[dict[str, Any]] = [
        {"block_id": "00000000-0000-0000-0000-000000000000", "children": append.blocks}
        for _, appends in planned
        for append in appends
    ]
    source = tmp_path / "requests.ts"
    source.write_text(
        'import type { AppendBlockChildrenParameters } from "@notionhq/client";\n'
        f"export const requests: AppendBlockChildrenParameters[] = {json.dumps(bodies)};\n"
    )
    (tmp_path / "node_modules").symlink_to(TYPES / "node_modules")
    checked = subprocess.run(
        [
            TSC,
            "--noEmit",
            "--strict",
            "--target",
            "es2022",
            "--module",
            "nodenext",
            "--skipLibCheck",
            str(source),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout[-3000:]
