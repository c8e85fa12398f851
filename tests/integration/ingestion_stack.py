"""A gateway and an ingestion process (the real local embedding model) sharing a blob store,
and sample documents of every supported kind, each saying something only it says."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import httpx
from assistant_fakes.pdf import pdf_of
from generation_stack import User

from service_process import ServiceProcess, free_port


@dataclass
class IngestionStack:
    gateway: ServiceProcess
    generation: ServiceProcess
    env: dict[str, str]
    blob_dir: Path
    admin_email: str
    ingestion: ServiceProcess = field(init=False)

    def start_ingestion(self) -> None:
        port = free_port()
        self.ingestion = ServiceProcess(
            "ingestion_service", port, {**self.env, "INGESTION_HTTP_PORT": str(port)}
        )
        self.ingestion.wait_ready(120)  # the model loads first

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)


def start_ingestion_stack(
    blob_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[IngestionStack]:
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = {
        "GATEWAY_JWT_SECRET": "i" * 40,
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": admin_email,
        "BLOB_DIR": str(blob_dir),
        "INGESTION_CHUNK_TOKENS": "120",
        "GENERATION_MOCK_TOKEN_DELAY_MS": "1",
        **(extra_env or {}),
    }
    port, generation_port = free_port(), free_port()
    gateway = ServiceProcess("gateway_service", port, {**env, "GATEWAY_HTTP_PORT": str(port)})
    generation = ServiceProcess(
        "generation_service", generation_port, {**env, "GENERATION_HTTP_PORT": str(generation_port)}
    )
    stack = IngestionStack(gateway, generation, env, blob_dir, admin_email)
    try:
        gateway.wait_ready(60)
        generation.wait_ready(60)
        stack.start_ingestion()
        yield stack
    finally:
        for process in (stack.gateway, stack.generation, stack.ingestion):
            if process.process.poll() is None:
                process.terminate()


def upload(
    http: httpx.Client,
    user: User,
    files: list[tuple[str, bytes]],
    collection: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    data: dict[str, str] = {}
    if collection:
        data["collection"] = collection
    if metadata is not None:
        data["metadata"] = json.dumps(metadata)
    response = http.post(
        "/v1/documents",
        files=[("files", (name, content)) for name, content in files],
        data=data,
        headers=user.headers,
    )
    assert response.status_code == 202, response.text
    documents: list[dict[str, Any]] = response.json()["documents"]
    return documents


def settled(http: httpx.Client, user: User, document_id: str, timeout: float = 90) -> Any:
    """The document's status once ingested or failed."""
    deadline = time.monotonic() + timeout
    while True:
        found = http.get(f"/v1/documents/{document_id}", headers=user.headers).json()
        if found.get("status") in ("succeeded", "failed"):
            return found
        assert time.monotonic() < deadline, f"document {document_id} never settled: {found}"
        time.sleep(0.3)


def search(
    http: httpx.Client, user: User, q: str, mode: str = "hybrid", **params: Any
) -> list[dict[str, Any]]:
    response = http.get("/v1/search", params={"q": q, "mode": mode, **params}, headers=user.headers)
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


def tiny_docx(heading: str, text: str) -> bytes:
    document = docx.Document()
    document.add_heading(heading, level=1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def one_of_each(tag: str) -> dict[str, tuple[str, bytes, str]]:
    """kind → (file name, bytes, a phrase only that file says)."""
    phrases = {
        kind: f"{kind} {tag} {word}"
        for kind, word in {
            "text": "zeppelin", "markdown": "marmalade", "html": "harpsichord", "pdf": "platypus",
            "docx": "dulcimer", "csv": "cassowary", "json": "jacaranda", "code": "kookaburra",
        }.items()
    }  # fmt: skip
    return {
        "text": ("notes.txt", f"Plain notes.\n\n{phrases['text']}.\n".encode(), phrases["text"]),
        "markdown": (
            "guide.md",
            f"# Guide\n\n## Part\n\n{phrases['markdown']}.\n".encode(),
            phrases["markdown"],
        ),
        "html": (
            "page.html",
            f"<html><body><h1>Page</h1><p>{phrases['html']}.</p>"
            "<script>ignored()</script></body></html>".encode(),
            phrases["html"],
        ),
        "pdf": ("paper.pdf", pdf_of([[phrases["pdf"]]]), phrases["pdf"]),
        "docx": ("report.docx", tiny_docx("Report", phrases["docx"]), phrases["docx"]),
        "csv": ("table.csv", f"name,note\nrow,{phrases['csv']}\n".encode(), phrases["csv"]),
        "json": ("data.json", f'{{"note": "{phrases["json"]}"}}'.encode(), phrases["json"]),
        "code": (
            "tool.py",
            f'def tool():\n    """{phrases["code"]}."""\n    return 1\n'.encode(),
            phrases["code"],
        ),
    }
