"""The limits Notion documents for the blocks of a request, checked as Notion counts them.

At most 100 children per array and 100 rich text items per array (a block's text, a table
cell, an image caption); 2,000 characters per text item and per URL, 1 to 1,000 per equation,
counted in UTF-16 code units as Notion's JavaScript does (an emoji is two); two levels of
nesting per request; 1,000 block elements per request; a table is created with at least one
row, each row as wide as the table; no U+0000 in any text. The fake Notion server refuses what
breaks them with Notion's `validation_error`, and tests check planned requests with them.
"""

from __future__ import annotations

from typing import Any

MAX_CHILDREN = 100
MAX_RICH_TEXT = 100
MAX_TEXT = 2000
MAX_URL = 2000
MAX_EXPRESSION = 1000
MAX_ELEMENTS = 1000
MAX_BYTES = 500_000
MAX_DEPTH = 2  # the blocks of a request and their children


class NotionError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def length(text: str) -> int:
    """A string's length as Notion counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def check_request(children: list[Any], where: str = "body.children") -> None:
    elements = _check_blocks(children, where, depth=1)
    if elements > MAX_ELEMENTS:
        raise invalid(f"{where} has {elements} block elements (max {MAX_ELEMENTS}).")


def _check_blocks(blocks: list[Any], where: str, depth: int) -> int:
    if len(blocks) > MAX_CHILDREN:
        raise invalid(f"{where}.length should be ≤ `{MAX_CHILDREN}`, instead was `{len(blocks)}`.")
    elements = 0
    for index, item in enumerate(blocks):
        path = f"{where}[{index}]"
        kind = item.get("type")
        content = item.get(kind) if isinstance(kind, str) else None
        if not isinstance(content, dict):
            raise invalid(f"{path} has no `{kind}` object.")
        check_rich_text(content.get("rich_text", []), f"{path}.{kind}.rich_text")
        check_rich_text(content.get("caption", []), f"{path}.{kind}.caption")
        if kind == "equation":
            _check_expression(content.get("expression", ""), f"{path}.equation")
        for cell_index, cell in enumerate(content.get("cells", [])):
            check_rich_text(cell, f"{path}.{kind}.cells[{cell_index}]")
        nested = content.get("children") or []
        if kind == "table":
            _check_table(content, nested, f"{path}.table")
        elements += 1
        if nested:
            if depth >= MAX_DEPTH:
                raise invalid(f"{path}.{kind}.children: only two levels of nesting per request.")
            elements += _check_blocks(nested, f"{path}.{kind}.children", depth + 1)
    return elements


def _check_table(content: dict[str, Any], rows: list[Any], where: str) -> None:
    if not rows:
        raise invalid(f"{where}.children should be defined: a table is created with its rows.")
    width = content.get("table_width")
    for index, row in enumerate(rows):
        cells = row.get("table_row", {}).get("cells", [])
        if row.get("type") != "table_row" or len(cells) != width:
            raise invalid(f"{where}.children[{index}] should be a table_row of {width} cells.")


def _check_expression(expression: str, where: str) -> None:
    if not expression or length(expression) > MAX_EXPRESSION:
        raise invalid(
            f"{where}.expression should be 1 to {MAX_EXPRESSION} characters, "
            f"instead was `{length(expression)}`."
        )
    _check_no_nul(expression, f"{where}.expression")


def check_rich_text(items: list[Any], where: str) -> None:
    if len(items) > MAX_RICH_TEXT:
        raise invalid(f"{where}.length should be ≤ `{MAX_RICH_TEXT}`, instead was `{len(items)}`.")
    for index, item in enumerate(items):
        link = ((item.get("text") or {}).get("link") or {}).get("url", "")
        if length(link) > MAX_URL:
            raise invalid(
                f"{where}[{index}].text.link.url.length should be ≤ `{MAX_URL}`, "
                f"instead was `{length(link)}`."
            )
        expression = (item.get("equation") or {}).get("expression")
        if expression is not None:
            _check_expression(expression, f"{where}[{index}].equation")
        text = (item.get("text") or {}).get("content", "")
        if length(text) > MAX_TEXT:
            raise invalid(
                f"{where}[{index}].text.content.length should be ≤ `{MAX_TEXT}`, "
                f"instead was `{length(text)}`."
            )
        _check_no_nul(text, f"{where}[{index}].text.content")


def _check_no_nul(text: str, where: str) -> None:
    if "\0" in text:
        raise invalid(f"{where} contains a null character (U+0000).")
