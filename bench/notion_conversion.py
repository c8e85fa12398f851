"""Markdown → Notion blocks: converting and planning a 1 MB document, against the same-run
baseline of pyromark turning it into events alone (the parser the converter reads).

The document mixes what generated content holds: headings, paragraphs of a few hundred to
several thousand characters with inline formatting, lists nested four deep, tables, code.

    python -m bench.notion_conversion [--megabytes 1] [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pyromark

from notion_sync_service.markdown.blocks import OPTIONS, to_blocks
from notion_sync_service.markdown.plan import plan


def document(size: int) -> str:
    sections: list[str] = []
    total, index = 0, 0
    while total < size:
        words = " ".join(f"word{i}" for i in range(40 + index % 700))
        section = (
            f"## Section {index}\n\nSome **bold {index}**, *italic*, `code` and "
            f"[a link](https://example.org/{index}). {words}\n\n"
            "- one\n  - two\n    - three\n      - four\n- [x] done\n\n"
            "| a | b | c |\n|---|---|---|\n"
            + "\n".join(f"| {r} | x | y |" for r in range(8))
            + f"\n\n```python\nfor i in range({index}):\n    print(i)\n```\n\n> a quote\n\n"
        )
        sections.append(section)
        total += len(section)
        index += 1
    return "".join(sections)[:size]


def timed(work: Callable[[], object], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(megabytes: float, runs: int) -> None:
    text = document(int(megabytes * 1_000_000))
    blocks = to_blocks(text)
    requests = plan(blocks)
    print(
        f"Markdown → Notion: {len(text):,} characters, {len(blocks):,} top-level blocks, "
        f"{len(requests):,} append requests; median of {runs} runs"
    )
    parse = statistics.median(timed(lambda: tuple(pyromark.events(text, options=OPTIONS)), runs))
    convert = statistics.median(timed(lambda: to_blocks(text), runs))
    both = statistics.median(timed(lambda: plan(to_blocks(text)), runs))
    print(f"    pyromark events only            {parse:7.1f} ms  (baseline)")
    print(f"    convert to blocks               {convert:7.1f} ms  ({convert / parse:.1f}x)")
    print(f"    convert + plan requests         {both:7.1f} ms  ({both / parse:.1f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    main(options.megabytes, options.runs)
