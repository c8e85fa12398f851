"""The kind comes from the bytes; structure survives as sections; bad files say why."""

import io
import zipfile

import pytest

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
