"""Bytes into text with its structure: the kind is told from the bytes (a PDF named `.txt` is
read as a PDF; an executable named `.pdf` is refused), the encoding detected, and the text cut
into sections (a heading path, a page) that chunks keep for citations.

Kinds: plain text, Markdown, HTML, PDF, DOCX, CSV, JSON and source code. A file that cannot be
read raises `ParseError` with a reason a person can act on.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath

import charset_normalizer
import docx
import pyromark
from bs4 import BeautifulSoup, Tag
from pypdf import PdfReader
from pypdf.errors import PdfReadError

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a DOCX larger than this unpacked is a zip bomb
MAX_ZIP_RATIO = 100
MAX_TITLE = 300  # characters of a document's own title kept
CODE_SUFFIXES = frozenset({
    ".py", ".js", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt", ".c", ".h", ".cpp",
    ".hpp", ".cs", ".rb", ".php", ".swift", ".scala", ".sh", ".sql", ".lua", ".r", ".m", ".pl",
})  # fmt: skip
COMMON_ENCODINGS = ("cp1252", "latin_1", "iso8859_15", "utf_16", "cp1250", "cp1251")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": DOCX,
    "csv": "text/csv",
    "json": "application/json",
    "code": "text/x-source",
}


class ParseError(Exception):
    """The file cannot be read; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Section:
    heading: str | None  # the heading path, "Install > Linux"
    text: str
    page: int | None = None


@dataclass(frozen=True)
class Body:
    """What a parser finds: the sections, and the title the document gives itself if any."""

    sections: list[Section]
    title: str | None = None


@dataclass(frozen=True)
class Parsed:
    kind: str
    sections: list[Section]  # each heading path starts with the document's title
    title: str | None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def detect(data: bytes, filename: str) -> str:
    """The document's kind, from its bytes; the name only tells text kinds apart."""
    if not data.strip():
        raise ParseError("the file is empty")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    text = decode(data)
    suffix = PurePath(filename).suffix.lower()
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or suffix in (".html", ".htm"):
        return "html"
    if head[:1] in ("{", "[") and _is_json(text):
        return "json"
    if suffix == ".csv":
        return "csv"
    if suffix in CODE_SUFFIXES:
        return "code"
    if suffix in (".md", ".markdown") or any(_is_heading(line) for line in text.split("\n")):
        return "markdown"
    return "text"


def parse(data: bytes, filename: str) -> Parsed:
    kind = detect(data, filename)
    body = PARSERS[kind](data)
    sections = [_storable(s) for s in body.sections if s.text.strip()]
    if not sections:
        hint = " (a scanned PDF needs OCR, which is not supported)" if kind == "pdf" else ""
        raise ParseError(f"no text found in the {kind} file{hint}")
    title = " ".join(_without_nul(body.title or "").split())[:MAX_TITLE] or None
    return Parsed(kind, [_titled(section, title) for section in sections], title)


def _storable(section: Section) -> Section:
    """The section without NUL characters, which PostgreSQL's text cannot hold: a PDF's text
    layer has them at times, and a text file past the first 8 KiB that `decode` looks at."""
    heading = None if section.heading is None else _without_nul(section.heading)
    return Section(heading, _without_nul(section.text), section.page)


def _without_nul(text: str) -> str:
    return text.replace("\x00", "")


def _titled(section: Section, title: str | None) -> Section:
    """The section under the document's title: a chunk headed "Parameters" alone says nothing
    of which command's parameters it lists, to the model or to keyword search."""
    if title is None or (section.heading or "").startswith(title):
        return section
    heading = f"{title} > {section.heading}" if section.heading else title
    return Section(heading, section.text, section.page)


def decode(data: bytes) -> str:
    """The bytes as text, in the encoding they were written in."""
    if b"\x00" in data[:8192]:
        raise ParseError("the file is binary, not a supported document type")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise ParseError("the file's text encoding could not be recognised")
    best = min((m.chaos, -m.coherence) for m in matches)
    tied = [m for m in matches if (m.chaos, -m.coherence) == best]
    # Equally likely readings: the most widely written encodings first (Windows-1252, Latin-1).
    tied.sort(
        key=lambda m: COMMON_ENCODINGS.index(m.encoding) if m.encoding in COMMON_ENCODINGS else 99
    )
    return str(tied[0])


def _zip_kind(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(entry.file_size for entry in archive.infolist())
        names = set(archive.namelist())
    except zipfile.BadZipFile as error:
        raise ParseError(f"the file is a damaged zip archive: {error}") from None
    if unpacked > MAX_UNZIPPED_BYTES or unpacked > MAX_ZIP_RATIO * max(len(data), 1):
        raise ParseError("the archive unpacks to far more than its size (a zip bomb?): refused")
    if "word/document.xml" in names:
        return "docx"
    raise ParseError("zip archives are not supported; upload the documents inside it")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _is_heading(line: str) -> bool:
    marks = len(line) - len(line.lstrip("#"))
    return 1 <= marks <= 6 and line[marks : marks + 1] == " "


# --- one parser per kind ----------------------------------------------------------------


def _plain(data: bytes) -> Body:
    return Body([Section(None, decode(data))])


def _markdown(data: bytes) -> Body:
    """Sections between headings; each keeps its heading path. The title: its first
    top-level heading."""
    text = decode(data)
    raw = text.encode()  # pyromark's ranges are UTF-8 byte offsets
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    titles: list[str] = []
    start = 0
    for event, span in pyromark.events_with_range(text):
        level = _heading_level(event)
        if level is None:
            continue
        sections.append(_section(path, raw[start : span["start"]].decode(errors="replace")))
        title = raw[span["start"] : span["end"]].decode().strip().strip("#=-").strip()
        path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, title)]
        if level == 1:
            titles.append(title)
        start = span["end"]
    sections.append(_section(path, raw[start:].decode(errors="replace")))
    return Body(sections, titles[0] if titles else None)


def _heading_level(event: object) -> int | None:
    """The level of a heading's Start event (whose range covers the whole heading)."""
    if not isinstance(event, dict) or not isinstance(event.get("Start"), dict):
        return None
    heading = event["Start"].get("Heading")
    return int(heading["level"][1]) if heading else None


def _section(path: list[tuple[int, str]], body: str) -> Section:
    heading = " > ".join(name for _, name in path) or None
    return Section(heading, body.strip())


# What a site repeats around each page's content, by the page's own landmarks: navigation,
# banners, footers, sidebars, search boxes and dialogs (cookie notices). Extraction libraries,
# which guess the main content from text density, flattened a reference page's headings and
# terms into one paragraph (decision 0015): the page's own markup decides instead.
AROUND_THE_CONTENT = (
    "nav, aside, [role=navigation], [role=complementary], [role=search], [role=dialog],"
    " [role=alertdialog]"
)
PAGE_FRAME = "header, footer, [role=banner], [role=contentinfo]"  # a page's, not an article's
MAIN = "main, [role=main]"


def _html(data: bytes) -> Body:
    """Sections between headings of the page's main content (its `<main>` if it marks one;
    never its navigation, banner, footer, sidebars or dialogs). The title: the page's
    `<title>`, else its first `<h1>`."""
    soup = BeautifulSoup(decode(data), "html.parser")
    named = soup.find("title") or soup.find("h1")
    title = named.get_text(" ", strip=True) if named is not None else None
    for hidden in soup(["script", "style", "noscript", "template"]):
        hidden.decompose()
    content: Tag | None = soup.select_one(MAIN)
    if content is None:
        content = soup
        for frame in content.select(PAGE_FRAME):
            frame.decompose()
    for around in content.select(AROUND_THE_CONTENT):
        around.decompose()
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    # A definition list's terms (`dt`: a parameter's name) are text of their own; what a `dd`
    # says is in its paragraphs.
    blocks = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "dt"]
    for element in content.find_all(blocks):
        text = element.get_text(" ", strip=True)
        if element.name[0] == "h" and element.name[1:].isdigit():
            sections.append(_section(path, "\n".join(lines)))
            level = int(element.name[1])
            path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, text)]
            lines = []
        elif text:
            lines.append(text)
    sections.append(_section(path, "\n".join(lines)))
    if not any(s.text for s in sections):  # no block elements: take all the text there is
        return Body([Section(None, content.get_text(" ", strip=True))], title)
    return Body(sections, title)


def _pdf(data: bytes) -> Body:
    """A section per page. The title: the one in its metadata, if any."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseError("the PDF is encrypted: upload it without a password")
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        pages = [
            Section(None, text, number)
            for number, text in enumerate(_without_running_lines(texts), start=1)
        ]
        return Body(pages, reader.metadata.title if reader.metadata else None)
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise ParseError(f"the PDF could not be read (damaged?): {error}") from None


# A page's running header and footer: among its first and last lines, those that most pages
# repeat — page numbers aside ("Page 3 of 9" is "Page # of #") — in a document of 3 pages or more.
EDGE_LINES = 2
RUNNING_SHARE = 0.5
DIGITS = re.compile(r"\d+")


def _without_running_lines(pages: list[str]) -> list[str]:
    """The pages' texts without the header and footer lines repeated on most of them."""
    if len(pages) < 3:
        return pages
    lines = [page.splitlines() for page in pages]
    # In how many pages each line stands at an edge (a page counts once).
    seen = Counter(line for page in lines for line in {_as_running(page[n]) for n in _edges(page)})
    running = {line for line, times in seen.items() if times / len(pages) >= RUNNING_SHARE}
    return ["\n".join(_kept(page, running)).strip() for page in lines]


def _edges(lines: list[str]) -> list[int]:
    """Where a page's header and footer can be: its first and last lines, a third at most."""
    count = min(EDGE_LINES, len(lines) // 3)
    return [*range(count), *range(len(lines) - count, len(lines))]


def _kept(lines: list[str], running: set[str]) -> list[str]:
    edges = set(_edges(lines))
    return [
        line for n, line in enumerate(lines) if n not in edges or _as_running(line) not in running
    ]


def _as_running(line: str) -> str:
    return DIGITS.sub("#", line.strip().lower())


def _docx(data: bytes) -> Body:
    """Sections between headings. The title: its core properties' title, else its first
    top-level heading."""
    try:
        document = docx.Document(io.BytesIO(data))
    except (KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ParseError(f"the DOCX could not be read (damaged?): {error}") from None
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    titles = [document.core_properties.title] if document.core_properties.title else []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title" or (style.startswith("Heading") and style[8:].isdigit()):
            sections.append(_section(path, "\n".join(lines)))
            level = int(style[8:]) if style[8:].isdigit() else 1
            if level == 1:
                titles.append(paragraph.text)
            path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, paragraph.text)]
            lines = []
        elif paragraph.text.strip():
            lines.append(paragraph.text)
    sections.append(_section(path, "\n".join(lines)))
    return Body(sections, titles[0] if titles else None)


def _csv(data: bytes) -> Body:
    """Each row as `column: value` pairs, so a chunk of rows reads on its own."""
    rows = list(csv.reader(io.StringIO(decode(data))))
    if not rows:
        return Body([])
    header, body = rows[0], rows[1:]
    lines = [
        "; ".join(f"{name}: {value}" for name, value in zip(header, row, strict=False) if value)
        for row in body
    ]
    return Body([Section(None, "\n".join(lines))])


def _json(data: bytes) -> Body:
    """Each value on a line of its own, with its path: `items[2].name: Ada`."""
    lines: list[str] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        else:
            lines.append(f"{path}: {value}")

    walk(json.loads(decode(data)), "")
    return Body([Section(None, "\n".join(lines))])


CODE_STARTS = ("def ", "class ", "async def ", "function ", "func ", "fn ", "pub fn ", "impl ")


def _code(data: bytes) -> Body:
    """Sections at top-level definitions, named by their first line."""
    sections: list[Section] = []
    current: list[str] = []
    heading: str | None = None
    for line in decode(data).split("\n"):
        if line.startswith(CODE_STARTS) and current:
            sections.append(Section(heading, "\n".join(current)))
            current = []
        if line.startswith(CODE_STARTS):
            heading = line.rstrip(" :{")[:200]
        current.append(line)
    sections.append(Section(heading, "\n".join(current)))
    return Body(sections)


PARSERS = {
    "text": _plain,
    "markdown": _markdown,
    "html": _html,
    "pdf": _pdf,
    "docx": _docx,
    "csv": _csv,
    "json": _json,
    "code": _code,
}
