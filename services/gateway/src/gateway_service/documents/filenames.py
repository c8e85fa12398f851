"""Upload file names as the system keeps them: a safe base name.

A client names its files however it likes (`../../etc/passwd`, `C:\\boot.ini`, a NUL, a
right-to-left override, 10,000 characters). Every consumer of the name — ingestion's parser
choice, a listing, a page that shows it, a download's `Content-Disposition` — would have to
defend itself; so the gateway keeps only the last path segment, without control or format
characters, at most 255 bytes, and the name as sent only as display metadata with those
characters escaped.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 255
FALLBACK = "upload"


def safe_filename(sent: str | None) -> str:
    base = (sent or "").replace("\\", "/").rsplit("/", 1)[-1]
    visible = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = visible.strip().lstrip(".").strip()
    if not name:
        return FALLBACK
    return _truncated(name)


def _truncated(name: str) -> str:
    """At most `MAX_NAME_BYTES` of UTF-8, keeping the extension where one fits."""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = f".{extension}" if dot and stem and len(extension) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    budget = MAX_NAME_BYTES - len(suffix.encode())
    return stem.encode()[:budget].decode(errors="ignore") + suffix


def display_name(sent: str | None) -> str | None:
    """The name as sent, for display only (control characters escaped); None if it is the
    safe name already."""
    if not sent or sent == safe_filename(sent):
        return None
    escaped = "".join(
        c if unicodedata.category(c) not in ("Cc", "Cf", "Cs") else f"\\u{ord(c):04x}" for c in sent
    )
    return escaped[:1000]
