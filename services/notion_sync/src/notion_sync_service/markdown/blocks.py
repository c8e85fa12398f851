"""Markdown into a tree of Notion block objects, parsed by markdown-it-py (CommonMark, tables,
strikethrough, task lists, `$$` equations). The tree can be any depth and any width;
`notion_sync_service.markdown.plan` cuts it into requests Notion accepts."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from notion_sync_service.markdown.rich_text import (
    MAX_TEXT,
    RichText,
    plain,
    rich_text,
    safe_url,
    split_words,
    text_items,
)

Block = dict[str, Any]
MAX_RICH_TEXT_ITEMS = 100  # rich text items in one block
# GitHub's alert syntax (`> [!NOTE]`) becomes a callout with this icon.
CALLOUTS = {
    "NOTE": "\N{INFORMATION SOURCE}\ufe0f",
    "TIP": "💡",
    "IMPORTANT": "❗",
    "WARNING": "⚠️",
    "CAUTION": "🛑",
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

_parser = (
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    .use(tasklists_plugin)
    .use(dollarmath_plugin)
)


def to_blocks(markdown: str) -> list[Block]:
    return _blocks(SyntaxTreeNode(_parser.parse(markdown)).children)


def block(kind: str, **content: Any) -> Block:
    return {"object": "block", "type": kind, kind: content}


def children_of(item: Block) -> list[Block]:
    found: list[Block] = item[item["type"]].get("children", [])
    return found


def _blocks(nodes: list[SyntaxTreeNode]) -> list[Block]:
    out: list[Block] = []
    for node in nodes:
        out.extend(_convert(node))
    return out


def _convert(node: SyntaxTreeNode) -> list[Block]:
    kind = node.type
    if kind == "heading":
        level = min(int(node.tag[1]), 3)  # Notion has three levels; h4-h6 become h3
        return _with_text(f"heading_{level}", rich_text(_inline(node)))
    if kind == "paragraph":
        return _paragraph(node)
    if kind in ("bullet_list", "ordered_list"):
        return [_list_item(item, kind) for item in node.children]
    if kind == "blockquote":
        return _quote(node)
    if kind in ("fence", "code_block"):
        return _code(node.content.rstrip("\n"), node.info.strip().split(" ")[0].lower())
    if kind == "hr":
        return [block("divider")]
    if kind == "table":
        return [_table(node)]
    if kind == "math_block":
        return [block("equation", expression=node.content.strip())]
    if kind == "html_block":  # kept as text: raw HTML means nothing to Notion
        return _with_text("paragraph", text_items(node.content.rstrip("\n")))
    return _blocks(node.children)


def _inline(node: SyntaxTreeNode) -> SyntaxTreeNode | None:
    return next((c for c in node.children if c.type == "inline"), None)


def _with_text(kind: str, items: list[RichText], **extra: Any) -> list[Block]:
    """A block of `kind`, continued in paragraphs if its text needs more than 100 items."""
    first, rest = items[:MAX_RICH_TEXT_ITEMS], items[MAX_RICH_TEXT_ITEMS:]
    out = [block(kind, rich_text=first, **extra)]
    while rest:
        out.append(block("paragraph", rich_text=rest[:MAX_RICH_TEXT_ITEMS]))
        rest = rest[MAX_RICH_TEXT_ITEMS:]
    return out


def _paragraph(node: SyntaxTreeNode) -> list[Block]:
    inline = _inline(node)
    if inline and len(inline.children) == 1 and inline.children[0].type == "image":
        image = inline.children[0]
        url = safe_url(str(image.attrs.get("src", "")))
        if url and len(url) <= MAX_TEXT:
            caption = text_items("".join(c.content for c in image.children))
            return [block("image", type="external", external={"url": url}, caption=caption)]
    return _with_text("paragraph", rich_text(inline))


def _list_item(item: SyntaxTreeNode, list_kind: str) -> Block:
    inner = list(item.children)
    first = inner[0] if inner and inner[0].type == "paragraph" else None
    items = rich_text(_inline(first)) if first else []
    children = _blocks(inner[1:] if first else inner)
    overflow = items[MAX_RICH_TEXT_ITEMS:]
    for start in range(0, len(overflow), MAX_RICH_TEXT_ITEMS):
        chunk = overflow[start : start + MAX_RICH_TEXT_ITEMS]
        children.insert(start // MAX_RICH_TEXT_ITEMS, block("paragraph", rich_text=chunk))
    content: dict[str, Any] = {"rich_text": items[:MAX_RICH_TEXT_ITEMS]}
    if children:
        content["children"] = children
    if "task-list-item" in str(item.attrs.get("class", "")):
        content["rich_text"] = _without_prefix(content["rich_text"], 0)  # the box's space
        return block("to_do", checked=_task_checked(first), **content)
    kind = "bulleted_list_item" if list_kind == "bullet_list" else "numbered_list_item"
    return block(kind, **content)


def _task_checked(paragraph: SyntaxTreeNode | None) -> bool:
    inline = _inline(paragraph) if paragraph else None
    box = inline.children[0] if inline and inline.children else None
    return bool(box and box.type == "html_inline" and "checked" in box.content)


def _quote(node: SyntaxTreeNode) -> list[Block]:
    inner = list(node.children)
    first = inner[0] if inner and inner[0].type == "paragraph" else None
    items = rich_text(_inline(first)) if first else []
    children = _blocks(inner[1:] if first else inner)
    marker = plain(items[:1]).split("\n")[0].split(" ")[0] if items else ""
    callout = marker.removeprefix("[!").removesuffix("]").upper()
    if marker.startswith("[!") and callout in CALLOUTS:
        items = _without_prefix(items, len(marker))
        extra: dict[str, Any] = {"icon": {"type": "emoji", "emoji": CALLOUTS[callout]}}
        kind = "callout"
    else:
        extra, kind = {}, "quote"
    if children:
        extra["children"] = children
    return _with_text(kind, items, **extra)


def _without_prefix(items: list[RichText], length: int) -> list[RichText]:
    """`items` without the first `length` characters and the whitespace after them."""
    if not items or items[0]["type"] != "text":
        return items
    head = items[0]["text"]["content"][length:].lstrip()
    rest = items[1:]
    if head:
        return [{**items[0], "text": {**items[0]["text"], "content": head}}, *rest]
    return rest


def _code(text: str, language: str) -> list[Block]:
    items = [text_items(piece)[0] for piece in split_words(text)] or text_items(" ")
    out = []
    for start in range(0, len(items), MAX_RICH_TEXT_ITEMS):
        out.append(
            block(
                "code",
                rich_text=items[start : start + MAX_RICH_TEXT_ITEMS],
                language=LANGUAGES.get(language, "plain text"),
            )
        )
    return out


def _table(node: SyntaxTreeNode) -> Block:
    rows: list[list[list[RichText]]] = []
    header = False
    for section in node.children:
        header = header or section.type == "thead"
        for row in section.children:
            rows.append([rich_text(_inline(cell)) for cell in row.children])
    width = max((len(r) for r in rows), default=1)
    table_rows = [block("table_row", cells=r + [[] for _ in range(width - len(r))]) for r in rows]
    return block(
        "table",
        table_width=width,
        has_column_header=header,
        has_row_header=False,
        children=table_rows,
    )
