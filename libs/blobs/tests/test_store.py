"""The local blob store: content-addressed per owner, atomic, and closed to path tricks."""

import uuid
from pathlib import Path

import pytest

from assistant_blobs import LocalBlobStore


def test_bytes_come_back_by_reference_and_the_same_bytes_are_kept_once(tmp_path: Path) -> None:
    store, owner = LocalBlobStore(tmp_path), uuid.uuid4()
    first, digest = store.put(owner, b"hello")
    again, _ = store.put(owner, b"hello")
    assert first == again == f"blob://{owner}/{digest}"
    assert store.get(first) == b"hello"
    assert len(list(tmp_path.rglob("*"))) == 2  # the owner's folder and one file
    store.delete(first)
    store.delete(first)  # gone already: nothing happens
    with pytest.raises(FileNotFoundError):
        store.get(first)


@pytest.mark.parametrize(
    "reference",
    ["file:///etc/passwd", "blob://../../etc/passwd", f"blob://{uuid.uuid4()}/../../x" + "0" * 57],
)
def test_a_reference_cannot_leave_the_store(tmp_path: Path, reference: str) -> None:
    with pytest.raises(ValueError, match="not a blob reference"):
        LocalBlobStore(tmp_path).get(reference)
