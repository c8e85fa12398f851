"""Inline Markdown into Notion rich text: annotations, links, inline code and equations, with
no item over Notion's 2,000 characters (split between words, formatting kept on every part)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from markdown_it.tree import SyntaxTreeNode

MAX_TEXT = 2000  # characters in one rich text item
TASK_CHECKBOX = "task-list-item-checkbox"
RichText = dict[str, Any]


@dataclass(frozen=True)
class Style:
    bold: bool = False
    italic: bool = False
    strikethrough: bool = False
    code: bool = False
    link: str | None = None

    def annotations(self) -> dict[str, Any]:
        return {
            "bold": self.bold,
            "italic": self.italic,
            "strikethrough": self.strikethrough,
            "underline": False,
            "code": self.code,
            "color": "default",
        }


def split_words(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut after whitespace when there is any."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit) + 1 or text.rfind("\n", 0, limit) + 1
        cut = cut if cut > limit // 2 else limit  # one enormous word: cut it
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces


def text_items(text: str, style: Style = Style()) -> list[RichText]:
    items = []
    for piece in split_words(text):
        content: dict[str, Any] = {"content": piece}
        if style.link:
            content["link"] = {"url": style.link}
        items.append({"type": "text", "text": content, "annotations": style.annotations()})
    return items


def equation_item(expression: str) -> RichText:
    return {"type": "equation", "equation": {"expression": expression[:MAX_TEXT]}}


def rich_text(inline: SyntaxTreeNode | None) -> list[RichText]:
    """The rich text of an `inline` node (a paragraph's, a heading's, a cell's)."""
    if inline is None:
        return []
    items: list[RichText] = []
    _walk(inline, Style(), items)
    return _merged(items)


_MARKS = {"strong": "bold", "em": "italic", "s": "strikethrough"}


def _walk(node: SyntaxTreeNode, style: Style, out: list[RichText]) -> None:
    for child in node.children:
        kind = child.type
        if kind in _MARKS:
            _walk(child, _marked(style, _MARKS[kind]), out)
        elif kind == "link":
            _walk(child, replace(style, link=safe_url(str(child.attrs.get("href", "")))), out)
        elif kind == "html_inline" and TASK_CHECKBOX in child.content:
            continue  # the task list's checkbox: the block's `checked` carries it
        elif kind in ("text", "html_inline"):
            out.extend(text_items(child.content, style))
        elif kind == "code_inline":
            out.extend(text_items(child.content, replace(style, code=True)))
        elif kind == "math_inline":
            out.append(equation_item(child.content))
        elif kind == "softbreak":
            out.extend(text_items(" ", style))
        elif kind == "hardbreak":
            out.extend(text_items("\n", style))
        elif kind == "image":
            alt = "".join(c.content for c in child.children) or "image"
            out.extend(text_items(alt, replace(style, link=safe_url(str(child.attrs["src"])))))
        else:
            _walk(child, style, out)


def _marked(style: Style, mark: str) -> Style:
    if mark == "bold":
        return replace(style, bold=True)
    if mark == "italic":
        return replace(style, italic=True)
    return replace(style, strikethrough=True)


def safe_url(url: str) -> str | None:
    """Notion accepts http(s) and mailto links only; anything else stays plain text."""
    return url if url.startswith(("http://", "https://", "mailto:")) else None


def _merged(items: list[RichText]) -> list[RichText]:
    """Joins neighbours with the same formatting (as long as they stay under the limit)."""
    merged: list[RichText] = []
    for item in items:
        last = merged[-1] if merged else None
        if (
            last is not None
            and item["type"] == last["type"] == "text"
            and item["annotations"] == last["annotations"]
            and item["text"].get("link") == last["text"].get("link")
            and len(last["text"]["content"]) + len(item["text"]["content"]) <= MAX_TEXT
        ):
            last["text"]["content"] += item["text"]["content"]
        else:
            merged.append(item)
    return merged


def plain(items: list[RichText]) -> str:
    """The text of rich text items, as Notion's `plain_text` would read."""
    return "".join(
        i["text"]["content"] if i["type"] == "text" else i["equation"]["expression"] for i in items
    )
