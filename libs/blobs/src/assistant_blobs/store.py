"""Blob stores. A blob is named by its owner and its SHA-256, so the same bytes uploaded twice
by one user are stored once, and a reference (`blob://<owner>/<sha256>`) says where they are.

The local store keeps files under one directory, shared by the gateway (which writes) and
ingestion (which reads and deletes); writes go to a temporary name and are renamed into place,
so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import Protocol

SCHEME = "blob://"


class BlobStore(Protocol):
    def put(self, owner: uuid.UUID, data: bytes) -> tuple[str, str]:
        """Stores the bytes; returns (reference, sha256)."""
        ...

    def get(self, reference: str) -> bytes: ...

    def delete(self, reference: str) -> None:
        """Removes the blob; nothing happens if it is gone already."""
        ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, owner: uuid.UUID, data: bytes) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        reference = f"{SCHEME}{owner}/{digest}"
        path = self._path(reference)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as staging:
                staging.write(data)
            os.replace(staging.name, path)
        return reference, digest

    def get(self, reference: str) -> bytes:
        return self._path(reference).read_bytes()

    def delete(self, reference: str) -> None:
        self._path(reference).unlink(missing_ok=True)

    def _path(self, reference: str) -> Path:
        """The file of a reference, refusing any that would leave the root."""
        if not reference.startswith(SCHEME):
            raise ValueError(f"not a blob reference: {reference[:100]!r}")
        owner, _, digest = reference.removeprefix(SCHEME).partition("/")
        if not _is_uuid(owner) or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError(f"not a blob reference: {reference[:100]!r}")
        return self.root / owner / digest


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def blob_store(directory: str) -> BlobStore:
    """The store settings name (`BLOB_DIR`: a local directory)."""
    return LocalBlobStore(Path(directory))
