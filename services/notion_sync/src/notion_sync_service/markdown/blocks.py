"""Markdown into a tree of Notion block objects. pyromark (pulldown-cmark: CommonMark with
tables, strikethrough, task lists, footnotes, `$`/`$$` math and GitHub's alerts) turns the text
into a flat stream of Start/End/inline events; a reader descends it, each container consuming
events up to its own End. The tree can be any depth and any width; `markdown.plan` cuts it into
requests Notion accepts. Footnotes, which Notion lacks, keep their `[label]` in the text and
their definitions at the end of the page, as GitHub shows them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyromark

from notion_sync_service.markdown.rich_text import (
    MAX_EXPRESSION,
    Event,
    Inline,
    RichText,
    fits,
    plain,
    safe_url,
    split_words,
    tag_of,
    text_items,
)

Block = dict[str, Any]
MAX_RICH_TEXT_ITEMS = 100  # rich text items in one block
# The JSON of one block's text: a long paragraph or code block continues in another block
# rather than fill a request (500 KB) on its own.
MAX_BLOCK_BYTES = 100_000
# GitHub's alert syntax (`> [!NOTE]`) becomes a callout with this icon.
CALLOUTS = {
    "Note": "\N{INFORMATION SOURCE}\ufe0f",
    "Tip": "💡",
    "Important": "❗",
    "Warning": "⚠️",
    "Caution": "🛑",
}
LANGUAGES = {
    "": "plain text", "text": "plain text", "txt": "plain text", "py": "python",
    "python": "python", "js": "javascript", "javascript": "javascript", "ts": "typescript",
    "typescript": "typescript", "sh": "shell", "shell": "shell", "bash": "bash", "zsh": "shell",
    "json": "json", "yaml": "yaml", "yml": "yaml", "sql": "sql", "java": "java", "go": "go",
    "rust": "rust", "rs": "rust", "c": "c", "cpp": "c++", "c++": "c++", "cs": "c#",
    "csharp": "c#", "html": "html", "css": "css", "md": "markdown", "markdown": "markdown",
    "ruby": "ruby", "rb": "ruby", "php": "php", "kotlin": "kotlin", "swift": "swift",
    "scala": "scala", "r": "r", "docker": "docker", "dockerfile": "docker", "toml": "toml",
    "xml": "xml", "graphql": "graphql", "diff": "diff", "latex": "latex", "tex": "latex",
}  # fmt: skip

OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_TASKLISTS
    | pyromark.Options.ENABLE_MATH
    | pyromark.Options.ENABLE_GFM
    | pyromark.Options.ENABLE_FOOTNOTES
)


def to_blocks(markdown: str) -> list[Block]:
    # CommonMark: "U+0000 must be replaced with the replacement character" (Notion refuses it).
    reader = _Reader(pyromark.events(markdown.replace("\0", "\ufffd"), options=OPTIONS))
    blocks = reader.blocks()
    return blocks + ([block("divider"), *reader.footnotes] if reader.footnotes else [])


def block(kind: str, **content: Any) -> Block:
    return {"object": "block", "type": kind, kind: content}


def children_of(item: Block) -> list[Block]:
    found: list[Block] = item[item["type"]].get("children", [])
    return found


class _Reader:
    """Descends the event stream: each method consumes its container's events, End included."""

    def __init__(self, events: Iterator[Event]) -> None:
        self._events = events
        self.footnotes: list[Block] = []  # their definitions, for the end of the page

    def blocks(self) -> list[Block]:
        """The blocks up to the End of the enclosing container (or of the document); inline
        events outside any paragraph (text after a block in a tight list item) become
        paragraphs where they stand."""
        out: list[Block] = []
        stray: Inline | None = None
        for event in self._events:
            if stray is None and self._starts_inline(event):
                stray = Inline()
            if stray is not None and stray.feed(event):
                continue
            if _is_end(event):
                break
            if stray is not None:
                out += _with_text("paragraph", stray.items())
                stray = None
            out += self._block(event)
        if stray is not None:
            out += _with_text("paragraph", stray.items())
        return out

    def _block(self, event: Event) -> list[Block]:
        if event == "Rule":
            return [block("divider")]
        if not isinstance(event, dict) or "Start" not in event:
            return []  # a stray marker (a task box outside a list): nothing to show
        value = event["Start"]
        tag = tag_of(value)
        if tag == "Paragraph":
            return self._paragraph()
        if tag == "Heading":
            level = min(int(value["Heading"]["level"][1]), 3)  # Notion has three; h4-h6: h3
            return _with_text(f"heading_{level}", self._inline().items())
        if tag == "List":
            return self._list(ordered=value["List"] is not None)
        if tag == "BlockQuote":
            return self._quote(value["BlockQuote"])
        if tag == "CodeBlock":
            fenced = value["CodeBlock"]
            language = fenced["Fenced"].split(" ")[0].lower() if isinstance(fenced, dict) else ""
            return _code(self._literal().removesuffix("\n"), language)
        if tag == "HtmlBlock":  # kept as text: raw HTML means nothing to Notion
            return _with_text("paragraph", text_items(self._literal().rstrip("\n")))
        if tag == "Table":
            return [self._table()]
        if tag == "FootnoteDefinition":
            self.footnotes += self._footnote(value["FootnoteDefinition"])
            return []
        return self.blocks()  # any other container: its content

    def _inline(self) -> Inline:
        """The inline content up to the End of the enclosing container."""
        inline = Inline()
        for event in self._events:
            if not inline.feed(event):
                break  # the container's End
        return inline

    def _literal(self) -> str:
        """The text of a code or HTML block, up to its End."""
        parts = []
        for event in self._events:
            if _is_end(event):
                break
            parts.append(next(iter(event.values())))
        return "".join(parts)

    def _paragraph(self) -> list[Block]:
        inline = self._inline()
        sole = inline.sole()
        if sole and sole[0] == "math":
            return _equation(sole[1])
        if sole and sole[0] == "image":
            url, alt = sole[1]
            if safe_url(url):
                caption = _capped(text_items(alt))
                return [block("image", type="external", external={"url": url}, caption=caption)]
        return _with_text("paragraph", inline.items())

    def _list(self, *, ordered: bool) -> list[Block]:
        items = []
        for event in self._events:
            if _is_end(event):
                break
            items.append(self._item(ordered))  # each event here starts an Item
        return items

    def _item(self, ordered: bool) -> Block:
        """A list item: its own text (a tight item's inline events, or its first paragraph),
        then its nested blocks, in order (text after a nested block is a paragraph there)."""
        text: list[RichText] | None = None
        tight = Inline()
        children: list[Block] = []
        checked: bool | None = None
        for event in self._events:
            if tight.feed(event):
                continue
            if _is_end(event):
                break
            if isinstance(event, dict) and "TaskListMarker" in event:
                checked = event["TaskListMarker"]
            elif text is None and event == {"Start": "Paragraph"} and not tight.items():
                text = self._inline().items()
            else:  # the first nested block: the rest of the item is blocks, up to its End
                children = self._block(event) + self.blocks()
                break
        items = text if text is not None else tight.items()
        kind = "numbered_list_item" if ordered else "bulleted_list_item"
        extra: dict[str, Any] = {}
        if checked is not None:
            kind, extra = "to_do", {"checked": checked}
        return _with_children(kind, items, children, **extra)

    def _quote(self, alert: str | None) -> list[Block]:
        text: list[RichText] = []
        children: list[Block] = []
        for event in self._events:
            if _is_end(event):
                break
            if not text and not children and event == {"Start": "Paragraph"}:
                text = self._inline().items()
            else:
                children += self._block(event)
        if alert in CALLOUTS:
            icon = {"type": "emoji", "emoji": CALLOUTS[alert]}
            return [_with_children("callout", text, children, icon=icon)]
        return [_with_children("quote", text, children)]

    def _table(self) -> Block:
        rows: list[list[list[RichText]]] = []
        header = False
        for event in self._events:
            if _is_end(event):
                break
            header = header or event == {"Start": "TableHead"}
            rows.append(self._row())
        width = max((len(r) for r in rows), default=1)
        table_rows = [
            block("table_row", cells=r + [[] for _ in range(width - len(r))]) for r in rows
        ]
        return block(
            "table",
            table_width=width,
            has_column_header=header,
            has_row_header=False,
            children=table_rows,
        )

    def _row(self) -> list[list[RichText]]:
        cells = []
        for event in self._events:
            if _is_end(event):
                break
            cells.append(_capped(self._inline().items()))  # each event here starts a TableCell
        return cells

    def _footnote(self, label: str) -> list[Block]:
        """A footnote's definition: its blocks, the first led by its `[label]`."""
        found = self.blocks()
        mark = text_items(f"[{label}] ")
        if found and found[0]["type"] == "paragraph":
            found[0]["paragraph"]["rich_text"][:0] = mark
            return _with_text("paragraph", found[0]["paragraph"]["rich_text"]) + found[1:]
        return _with_text("paragraph", mark) + found

    @staticmethod
    def _starts_inline(event: Event) -> bool:
        return Inline().feed(event)


def _is_end(event: Event) -> bool:
    return isinstance(event, dict) and "End" in event


def _runs(items: list[RichText]) -> list[list[RichText]]:
    """The text cut into consecutive runs a block holds: at most 100 items and
    `MAX_BLOCK_BYTES` of JSON each (always one run, empty for no text)."""
    if len(items) <= MAX_RICH_TEXT_ITEMS and len(orjson.dumps(items)) <= MAX_BLOCK_BYTES:
        return [items]  # most text: one block, no item weighed alone
    runs: list[list[RichText]] = [[]]
    size = 0
    for item in items:
        weight = len(orjson.dumps(item)) + 1
        if runs[-1] and (len(runs[-1]) == MAX_RICH_TEXT_ITEMS or size + weight > MAX_BLOCK_BYTES):
            runs.append([])
            size = 0
        runs[-1].append(item)
        size += weight
    return runs


def _capped(items: list[RichText]) -> list[RichText]:
    """At most 100 items where no continuation block can follow (a table cell, a caption):
    the formatting of the tail is given up first, its text only beyond 200,000 characters."""
    if len(items) <= MAX_RICH_TEXT_ITEMS:
        return items
    for keep in range(MAX_RICH_TEXT_ITEMS - 1, -1, -1):
        tail = text_items(plain(items[keep:]))
        if keep + len(tail) <= MAX_RICH_TEXT_ITEMS:
            return items[:keep] + tail
    return text_items(plain(items))[:MAX_RICH_TEXT_ITEMS]


def _with_text(kind: str, items: list[RichText], **extra: Any) -> list[Block]:
    """A block of `kind`, continued in paragraphs if its text needs more than one block."""
    first, *rest = _runs(items)
    return [block(kind, rich_text=first, **extra), *(block("paragraph", rich_text=r) for r in rest)]


def _with_children(kind: str, items: list[RichText], children: list[Block], **extra: Any) -> Block:
    """A block of `kind` with nested blocks; text beyond one block continues in paragraphs
    that lead its children."""
    first, *rest = _runs(items)
    overflow = [block("paragraph", rich_text=run) for run in rest]
    content: dict[str, Any] = {"rich_text": first, **extra}
    if overflow or children:
        content["children"] = overflow + children
    return block(kind, **content)


def _equation(expression: str) -> list[Block]:
    """An equation block; one too long for Notion is kept as LaTeX code, an empty one dropped."""
    if not fits(expression, MAX_EXPRESSION):
        return _code(expression, "latex")
    return [block("equation", expression=expression)] if expression else []


def _code(text: str, language: str) -> list[Block]:
    items = [text_items(piece)[0] for piece in split_words(text)] or text_items(" ")
    language = LANGUAGES.get(language, "plain text")
    return [block("code", rich_text=run, language=language) for run in _runs(items)]
