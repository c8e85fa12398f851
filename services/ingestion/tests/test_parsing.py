"""The kind comes from the bytes; structure survives as sections; bad files say why."""

import io
import zipfile

import docx
import pytest
from assistant_fakes.pdf import pdf_of

from ingestion_service.parsing import ParseError, detect, parse


def test_the_kind_is_told_from_the_bytes_not_the_name() -> None:
    assert detect(b"%PDF-1.7 ...", "notes.txt") == "pdf"
    assert detect(b"<!DOCTYPE html><p>x</p>", "page.txt") == "html"
    assert detect(b'{"a": 1}', "data.txt") == "json"
    assert detect(b"# Title\n\ntext", "notes.txt") == "markdown"
    assert detect(b"def f():\n    pass\n", "tool.py") == "code"
    assert detect(b"just words", "x.bin") == "text"
    with pytest.raises(ParseError, match="binary"):
        detect(b"\x89PNG\r\n\x1a\n\x00\x00", "cat.pdf")


def test_markdown_sections_keep_their_heading_path() -> None:
    parsed = parse(b"# A\n\nintro\n\n## B\n\nbody\n\n### C\n\ndeep\n\n## D\n\nlast\n", "x.md")
    assert [(s.heading, s.text) for s in parsed.sections] == [
        ("A", "intro"), ("A > B", "body"), ("A > B > C", "deep"), ("A > D", "last"),
    ]  # fmt: skip


def test_text_in_another_encoding_is_read_as_written() -> None:
    text = "Relatório de manutenção: as alterações não foram concluídas. " * 20
    [section] = parse(text.encode("cp1252"), "relatorio.txt").sections
    assert "manutenção" in section.text


def test_bad_files_fail_with_a_reason_a_person_can_act_on() -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(b"  \n", "x.txt")
    with pytest.raises(ParseError, match="PDF could not be read"):
        parse(b"%PDF-1.4 broken", "x.pdf")
    with pytest.raises(ParseError, match="zip archives are not supported"):
        parse(_zip({"a.txt": b"x"}), "x.zip")
    with pytest.raises(ParseError, match="zip bomb"):
        parse(_zip({"word/document.xml": b"0" * 50_000_000}), "x.docx")


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_each_section_is_under_the_documents_own_title() -> None:
    page = (
        b"<html><head><title>CREATE INDEX</title></head><body>"
        b"<h2>Parameters</h2><dl><dt>CONCURRENTLY</dt><dd><p>Builds it without locking writes."
        b"</p></dd></dl>"
        b"<h2>Notes</h2><p>It takes longer.</p></body></html>"
    )
    parsed = parse(page, "sql-createindex.html")
    assert parsed.title == "CREATE INDEX"
    assert [(s.heading, s.text) for s in parsed.sections] == [
        ("CREATE INDEX > Parameters", "CONCURRENTLY\nBuilds it without locking writes."),
        ("CREATE INDEX > Notes", "It takes longer."),
    ]
    markdown = parse(b"preamble\n\n# Guide\n\nintro\n\n## Setup\n\nsteps\n", "guide.md")
    assert markdown.title == "Guide"
    assert [s.heading for s in markdown.sections] == ["Guide", "Guide", "Guide > Setup"]
    assert parse(b"no headings here", "notes.txt").title is None
    assert parse(b"no headings here", "notes.txt").sections[0].heading is None


def test_a_docx_title_comes_from_its_properties_or_first_heading() -> None:
    document = docx.Document()
    document.core_properties.title = "Runbook"
    document.add_heading("Restarts", level=2)
    document.add_paragraph("Consumers take their partitions back.")
    out = io.BytesIO()
    document.save(out)
    parsed = parse(out.getvalue(), "runbook.docx")
    assert parsed.title == "Runbook"
    assert [s.heading for s in parsed.sections] == ["Runbook > Restarts"]


def test_nul_characters_past_the_binary_check_are_not_kept() -> None:
    text = "Plain words. " * 1000 + "\n\n# Guide\x00\n\nA stray \x00 byte.\n"  # past 8 KiB
    parsed = parse(text.encode(), "guide.md")
    assert parsed.title == "Guide"
    assert all("\x00" not in (s.heading or "") + s.text for s in parsed.sections)
    assert parsed.sections[-1].text.endswith("A stray  byte.")


def test_a_pages_navigation_banner_footer_sidebar_and_cookie_notice_are_left_out() -> None:
    frame = (
        b"<nav>Prev Up Home Next</nav><div role='navigation'>Table of contents</div>"
        b"<aside>Related pages</aside><div role='dialog'>We use cookies. Accept?</div>"
    )
    marked = parse(
        b"<html><head><title>Guide</title></head><body><header>Site name</header>" + frame
        + b"<main><header><h1>Restarts</h1></header><p>Consumers rejoin their group.</p>"
        + b"<nav>On this page</nav></main><footer>Copyright 2026</footer></body></html>",
        "guide.html",
    )  # fmt: skip
    assert [(s.heading, s.text) for s in marked.sections if s.text] == [
        ("Guide > Restarts", "Consumers rejoin their group.")  # the article's own header kept
    ]
    unmarked = parse(  # no <main>: the page's own header and footer go too
        b"<html><body><header>Site name</header>" + frame
        + b"<h1>Restarts</h1><p>Consumers rejoin their group.</p>"
        + b"<div role='contentinfo'>Copyright 2026</div></body></html>",
        "guide.html",
    )  # fmt: skip
    assert [(s.heading, s.text) for s in unmarked.sections if s.text] == [
        ("Restarts", "Consumers rejoin their group.")
    ]


def test_a_pdfs_running_header_and_footer_are_left_out_of_every_page() -> None:
    pages = [
        ["ACME Corp - Operations Manual", f"Body text {n}: restart step {n}.", f"Page {n} of 4"]
        for n in range(1, 5)
    ]
    pages[2].insert(1, "ACME Corp - Operations Manual")  # in a page's body: kept there
    parsed = parse(pdf_of(pages), "manual.pdf")
    assert [(s.page, s.text) for s in parsed.sections] == [
        (1, "Body text 1: restart step 1."),
        (2, "Body text 2: restart step 2."),
        (3, "ACME Corp - Operations Manual\nBody text 3: restart step 3."),
        (4, "Body text 4: restart step 4."),
    ]
    two = parse(pdf_of([["Title", "One."], ["Title", "Two."]]), "short.pdf")
    assert [s.text for s in two.sections] == ["Title\nOne.", "Title\nTwo."]  # too few to tell
