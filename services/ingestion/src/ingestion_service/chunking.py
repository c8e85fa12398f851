"""Sections into chunks the embedding model takes whole: at most `max_tokens` tokens (counted
by the model's own tokenizer), cut between paragraphs, then sentences, then words, with about
`overlap` tokens of the previous chunk repeated so no sentence loses its context. A chunk never
crosses a section, so it keeps its heading and page for citations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ingestion_service.parsing import Section

TokenCounter = Callable[[list[str]], list[int]]  # tokens of each text


@dataclass(frozen=True)
class Chunk:
    text: str
    section: str | None
    page: int | None
    start: int  # character offsets in the document's text (its sections joined)
    end: int
    tokens: int

    @property
    def embedded_text(self) -> str:
        return embedded_text(self.section, self.text)


def embedded_text(section: str | None, text: str) -> str:
    """What the model sees of a chunk: the heading path as context, then the text."""
    return f"{section}\n{text}" if section else text


def chunk(
    sections: list[Section], count: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    chunks: list[Chunk] = []
    offset = 0
    for section in sections:
        chunks += _chunk_section(section, offset, count, max_tokens, overlap)
        offset += len(section.text) + 2  # sections are joined by a blank line
    return chunks


def _chunk_section(
    section: Section, offset: int, count: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    pieces = _pieces(section.text, count, max_tokens)
    sizes = [size for _, _, size in pieces]
    chunks: list[Chunk] = []
    first = 0
    while first < len(pieces):
        last, total = first, sizes[first]
        while last + 1 < len(pieces) and total + sizes[last + 1] <= max_tokens:
            last += 1
            total += sizes[last]
        start, end = pieces[first][1], pieces[last][1] + len(pieces[last][0])
        chunks.append(
            Chunk(
                section.text[start:end].strip(),
                section.heading,
                section.page,
                offset + start,
                offset + end,
                total,
            )
        )
        if last + 1 >= len(pieces):
            break
        # Start the next chunk a few pieces back, within the overlap, but always move forward.
        back, carried = last, 0
        while back > first + 1 and carried + sizes[back] <= overlap:
            carried += sizes[back]
            back -= 1
        first = back + 1 if carried else last + 1
    return chunks


Piece = tuple[str, int, int]  # text, its offset, its tokens


def _pieces(text: str, count: TokenCounter, max_tokens: int) -> list[Piece]:
    """Paragraphs, and any too long cut into lines, sentences, then words; all the paragraphs
    counted in one call to the tokenizer."""
    paragraphs = [(p, at) for p, at in _split(text, "\n\n", 0) if p.strip()]
    sizes = count([p for p, _ in paragraphs]) if paragraphs else []
    return _fitting(
        [(p, at, size) for (p, at), size in zip(paragraphs, sizes, strict=True)],
        count,
        max_tokens,
    )


def _fitting(pieces: list[Piece], count: TokenCounter, max_tokens: int) -> list[Piece]:
    out: list[Piece] = []
    for piece in pieces:
        out += [piece] if piece[2] <= max_tokens else _cut(piece, count, max_tokens)
    return out


def _cut(piece: Piece, count: TokenCounter, max_tokens: int) -> list[Piece]:
    text, at, _ = piece
    for separator in ("\n", ". ", " "):
        parts = [(p, at + o) for p, o in _split(text, separator, 0) if p.strip()]
        if len(parts) > 1:
            sizes = count([p for p, _ in parts])
            counted = [(p, where, size) for (p, where), size in zip(parts, sizes, strict=True)]
            return _fitting(counted, count, max_tokens)
    half = len(text) // 2  # one enormous word: halve it
    halves = [(text[:half], at), (text[half:], at + half)]
    sizes = count([h for h, _ in halves])
    counted = [(h, where, size) for (h, where), size in zip(halves, sizes, strict=True)]
    return _fitting(counted, count, max_tokens)


def _split(text: str, separator: str, base: int) -> list[tuple[str, int]]:
    """The parts between separators, each with its offset; the separator stays with the part
    before it, so the parts rejoin to the text."""
    parts: list[tuple[str, int]] = []
    start = 0
    while True:
        found = text.find(separator, start)
        if found == -1:
            parts.append((text[start:], base + start))
            return parts
        end = found + len(separator)
        parts.append((text[start:end], base + start))
        start = end
