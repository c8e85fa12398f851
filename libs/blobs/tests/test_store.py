"""Both blob stores — a local directory, and an S3-compatible server (moto's, speaking the S3
wire protocol to the real boto3 client) — keep bytes by owner and content, give them back by
reference, forget them idempotently, and refuse references that would reach outside."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from assistant_blobs import BlobSettings, BlobStore, LocalBlobStore, S3BlobStore, blob_store

BUCKET = "uploads"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> BlobSettings:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
    settings = BlobSettings(
        s3_bucket=BUCKET, s3_endpoint_url=s3_server, s3_region="us-east-1", s3_prefix="blobs/"
    )
    store = blob_store(settings)
    assert isinstance(store, S3BlobStore)
    store._client.create_bucket(Bucket=BUCKET)
    return settings


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return blob_store(BlobSettings(dir=str(tmp_path)))
    return blob_store(request.getfixturevalue("s3_settings"))


def test_bytes_come_back_by_reference_and_deleting_twice_is_harmless(store: BlobStore) -> None:
    owner = uuid.uuid4()
    first, digest = store.put(owner, b"hello")
    again, _ = store.put(owner, b"hello")
    assert first == again == f"blob://{owner}/{digest}"
    assert store.get(first) == b"hello"
    store.delete(first)
    store.delete(first)  # gone already: nothing happens
    with pytest.raises(FileNotFoundError):
        store.get(first)


def test_an_owners_blobs_go_all_at_once_and_only_theirs(store: BlobStore) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    mine = [store.put(owner, f"mine {i}".encode())[0] for i in range(3)]
    [theirs] = [store.put(other, b"theirs")[0]]
    assert store.delete_owner(owner) == 3
    assert store.delete_owner(owner) == 0  # again: nothing left, nothing happens
    for reference in mine:
        with pytest.raises(FileNotFoundError):
            store.get(reference)
    assert store.get(theirs) == b"theirs"


def test_the_same_bytes_are_kept_once(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put(uuid.uuid4(), b"hello")
    owner = uuid.uuid4()
    store.put(owner, b"hello")
    store.put(owner, b"hello")
    assert len(list((tmp_path / str(owner)).iterdir())) == 1


def test_s3_objects_are_named_by_prefix_owner_and_hash(s3_settings: BlobSettings) -> None:
    store = blob_store(s3_settings)
    assert isinstance(store, S3BlobStore)
    owner = uuid.uuid4()
    _, digest = store.put(owner, b"bytes")
    listed = store._client.list_objects_v2(Bucket=BUCKET, Prefix=f"blobs/{owner}/")
    assert [item["Key"] for item in listed["Contents"]] == [f"blobs/{owner}/{digest}"]


@pytest.mark.parametrize(
    "reference",
    ["file:///etc/passwd", "blob://../../etc/passwd", f"blob://{uuid.uuid4()}/../../x" + "0" * 57],
)
def test_a_reference_cannot_leave_the_store(store: BlobStore, reference: str) -> None:
    with pytest.raises(ValueError, match="not a blob reference"):
        store.get(reference)
