"""Inline Markdown into Notion rich text: annotations, links, inline code and equations, with
no item over Notion's 2,000 characters (split between words, formatting kept on every part).
Notion counts characters as JavaScript does, in UTF-16 code units: an emoji counts two.

`Inline` is fed pyromark's inline events one at a time, since a tight list item interleaves
them with the block events of its nested lists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

MAX_TEXT = 2000  # characters in one rich text item, and in one URL
MAX_EXPRESSION = 1000  # characters in one equation
RichText = dict[str, Any]
Event = Any  # a pyromark event: a str ("SoftBreak") or a one-key dict ({"Text": "…"})

# Inline containers: their Start and End enclose styled text.
_MARKS = frozenset({"Strong", "Emphasis", "Strikethrough"})
INLINE_CONTAINERS = frozenset({*_MARKS, "Link", "Image", "Superscript", "Subscript"})
_BREAKS = {"SoftBreak": " ", "HardBreak": "\n"}
_LITERALS = ("Text", "Html", "InlineHtml")  # raw HTML means nothing to Notion: kept as text


@dataclass(frozen=True)
class Style:
    bold: bool = False
    italic: bool = False
    strikethrough: bool = False
    code: bool = False
    link: str | None = None

    @cached_property
    def annotations(self) -> dict[str, Any]:
        """Shared by every item of this style (never changed once made)."""
        return {
            "bold": self.bold,
            "italic": self.italic,
            "strikethrough": self.strikethrough,
            "underline": False,
            "code": self.code,
            "color": "default",
        }


PLAIN = Style()


def tag_of(value: Any) -> str:
    """The tag of a Start or End event's value: `"Strong"`, or the key of `{"Link": {…}}`."""
    return value if isinstance(value, str) else next(iter(value))


def utf16_length(text: str) -> int:
    """The length Notion's limits count: UTF-16 code units (a character beyond U+FFFF is 2)."""
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int) -> bool:
    """Whether `text` is at most `limit` UTF-16 units (no character is more than two)."""
    return len(text) <= limit // 2 or utf16_length(text) <= limit


def split_words(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut after whitespace when there is any."""
    if fits(text, limit):
        return [text] if text else []
    pieces = []
    start = 0
    while start < len(text):
        end = start + _prefix_within(text[start : start + limit], limit)
        if end < len(text):
            space = max(text.rfind(" ", start, end), text.rfind("\n", start, end)) + 1
            end = space if space - start > (end - start) // 2 else end  # one enormous word: cut it
        pieces.append(text[start:end])
        start = end
    return pieces


def _prefix_within(text: str, limit: int) -> int:
    """How many characters from the start of `text` fit in `limit` UTF-16 units."""
    end = min(len(text), limit)
    excess = utf16_length(text[:end]) - limit
    while excess > 0:
        end -= 1
        excess -= 2 if ord(text[end]) > 0xFFFF else 1
    return end


def text_items(text: str, style: Style = PLAIN) -> list[RichText]:
    items = []
    annotations = style.annotations
    for piece in split_words(text):
        content: dict[str, Any] = {"content": piece}
        if style.link:
            content["link"] = {"url": style.link}
        items.append({"type": "text", "text": content, "annotations": annotations})
    return items


def equation_items(expression: str, style: Style = PLAIN) -> list[RichText]:
    """An inline equation; one too long for Notion stays as code, an empty one is dropped."""
    if not fits(expression, MAX_EXPRESSION):
        return text_items(expression, replace(style, code=True))
    return [{"type": "equation", "equation": {"expression": expression}}] if expression else []


def safe_url(url: str) -> str | None:
    """Notion accepts http(s) and mailto links of up to 2,000 characters; anything else stays
    plain text."""
    if not fits(url, MAX_TEXT) or not url.startswith(("http://", "https://", "mailto:")):
        return None
    return url


class Inline:
    """Rich text built from inline events. `feed` returns False for an event that is not
    inline (a block's Start or End), which the caller handles.

    It also notes a paragraph that holds nothing but one image or one display equation, which
    become blocks of their own (`sole`)."""

    def __init__(self) -> None:
        self._items: list[RichText] = []
        self._styles = [PLAIN]
        self._images: list[int] = []  # open images: where their alt text starts
        self._parts = 0  # top-level pieces, to tell a sole one
        self._first: tuple[str, Any] = ("text", None)  # the first of them
        self._alt = ""  # of the last top-level image

    def feed(self, event: Event) -> bool:
        if isinstance(event, str):
            if event not in _BREAKS:
                return False
            self._items.extend(text_items(_BREAKS[event], self._styles[-1]))
            return True
        key, value = next(iter(event.items()))
        if key in _LITERALS:
            if value.strip():
                self._note("text", None)
            self._items.extend(text_items(value, self._styles[-1]))
        elif key == "Code":
            self._note("text", None)
            self._items.extend(text_items(value, replace(self._styles[-1], code=True)))
        elif key in ("InlineMath", "DisplayMath"):
            expression = value.strip()
            self._note("math" if key == "DisplayMath" else "text", expression)
            self._items.extend(equation_items(expression, self._styles[-1]))
        elif key == "FootnoteReference":  # its definition is at the end of the page
            self._items.extend(text_items(f"[{value}]", self._styles[-1]))
        elif key == "Start" and tag_of(value) in INLINE_CONTAINERS:
            self._open(tag_of(value), value)
        elif key == "End" and tag_of(value) in INLINE_CONTAINERS:
            self._close(tag_of(value))
        else:
            return False
        return True

    def items(self) -> list[RichText]:
        return _merged(self._items)

    def sole(self) -> tuple[str, Any] | None:
        """("image", (url, alt)) or ("math", expression) when that is all there is."""
        kind, value = self._first
        if self._parts != 1 or kind == "text":
            return None
        return (kind, (value, self._alt)) if kind == "image" else (kind, value)

    def _open(self, tag: str, value: Any) -> None:
        style = self._styles[-1]
        if tag in _MARKS:
            style = _marked(style, tag)
        elif tag in ("Link", "Image"):
            url = value[tag]["dest_url"]
            style = replace(style, link=safe_url(url))
            if tag == "Image":
                self._note("image", url)
                self._images.append(len(self._items))
        self._styles.append(style)

    def _close(self, tag: str) -> None:
        style = self._styles.pop()
        if tag == "Image":
            alt = self._items[self._images.pop() :]
            if not alt:
                self._items.extend(text_items("image", style))
            if not self._images:
                self._alt = plain(alt)

    def _note(self, kind: str, value: Any) -> None:
        if not self._images:  # an image's alt text is part of the image
            if not self._parts:
                self._first = (kind, value)
            self._parts += 1


def _marked(style: Style, tag: str) -> Style:
    if tag == "Strong":
        return replace(style, bold=True)
    if tag == "Emphasis":
        return replace(style, italic=True)
    return replace(style, strikethrough=True)


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
            and fits(last["text"]["content"] + item["text"]["content"], MAX_TEXT)
        ):
            joined = last["text"]["content"] + item["text"]["content"]
            merged[-1] = {**last, "text": {**last["text"], "content": joined}}
        else:
            merged.append(item)
    return merged


def plain(items: list[RichText]) -> str:
    """The text of rich text items, as Notion's `plain_text` would read."""
    return "".join(
        i["text"]["content"] if i["type"] == "text" else i["equation"]["expression"] for i in items
    )
