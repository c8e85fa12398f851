"""Upload file names are kept as safe base names; the name as sent only for display."""

import pytest

from gateway_service.documents.filenames import MAX_NAME_BYTES, display_name, safe_filename


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("C:\\Users\\ada\\notes.md", "notes.md"),
        ("a\x00b\x1b[31m.txt", "ab[31m.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),  # a right-to-left override
        ("..", "upload"),
        ("/", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".bashrc", "bashrc"),
        ("relatório final.docx", "relatório final.docx"),
    ],
)
def test_a_name_becomes_its_safe_base_name(sent: str | None, kept: str) -> None:
    assert safe_filename(sent) == kept


def test_a_long_name_keeps_its_extension_within_the_byte_limit() -> None:
    kept = safe_filename("ç" * 400 + ".markdown")
    assert kept.endswith(".markdown")
    assert len(kept.encode()) <= MAX_NAME_BYTES
    kept.encode().decode()  # no character cut in half


def test_the_name_as_sent_is_kept_escaped_for_display_only_when_it_differs() -> None:
    assert display_name("report.pdf") is None
    assert display_name("../a\x00.txt") == "../a\\u0000.txt"
