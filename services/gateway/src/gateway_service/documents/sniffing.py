"""What an upload is, from its first bytes: refusing early what ingestion could never read
(images, executables, archives other than DOCX). Ingestion tells the text kinds apart."""

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUPPORTED = "text, Markdown, HTML, PDF, DOCX, CSV, JSON or source code"


def sniffed_type(data: bytes) -> str | None:
    """The upload's content type, or None when it is not a document ingestion reads."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return DOCX  # ingestion checks it is one, and not a zip bomb
    if b"\x00" in data[:8192]:
        return None  # binary: an image, an executable, a compressed file
    return "text/plain"  # in whatever encoding: ingestion detects which, and the kind
