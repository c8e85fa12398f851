"""Blob stores. A blob is named by its owner and its SHA-256, so the same bytes uploaded twice
by one user are stored once, and a reference (`blob://<owner>/<sha256>`) says which blob it is,
whatever store holds it.

The local store keeps files under one directory, shared by the gateway (which writes) and
ingestion (which reads and deletes); writes go to a temporary name and are renamed into place,
so a reader never sees half a file. The S3 store keeps objects `<prefix><owner>/<sha256>` in a
bucket of any S3-compatible server (AWS S3, MinIO, Ceph, R2…), where a put is atomic anyway.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant_blobs.settings import BlobSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

SCHEME = "blob://"


class BlobStore(Protocol):
    def put(self, owner: uuid.UUID, data: bytes) -> tuple[str, str]:
        """Stores the bytes; returns (reference, sha256)."""
        ...

    def get(self, reference: str) -> bytes:
        """The bytes; FileNotFoundError when the blob is gone."""
        ...

    def delete(self, reference: str) -> None:
        """Removes the blob; nothing happens if it is gone already."""
        ...

    def delete_owner(self, owner: uuid.UUID) -> int:
        """Removes every blob of the owner, whatever references remain; returns how many."""
        ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, owner: uuid.UUID, data: bytes) -> tuple[str, str]:
        reference, digest = named(owner, data)
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

    def delete_owner(self, owner: uuid.UUID) -> int:
        folder = self.root / str(owner)
        found = [path for path in folder.glob("*") if path.is_file()]
        shutil.rmtree(folder, ignore_errors=True)
        return len(found)

    def _path(self, reference: str) -> Path:
        return self.root / key_of(reference)


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix

    def put(self, owner: uuid.UUID, data: bytes) -> tuple[str, str]:
        reference, digest = named(owner, data)
        # The server checks the bytes against their SHA-256 before it keeps them.
        self._client.put_object(
            Bucket=self._bucket, Key=self._key(reference), Body=data, ChecksumAlgorithm="SHA256"
        )
        return reference, digest

    def get(self, reference: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._key(reference))
        except self._client.exceptions.NoSuchKey:
            raise FileNotFoundError(reference) from None
        return answer["Body"].read()

    def delete(self, reference: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._key(reference))

    def delete_owner(self, owner: uuid.UUID) -> int:
        deleted = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=f"{self._prefix}{owner}/"
        )
        for page in pages:  # at most 1,000 keys a page, as many as one delete takes
            keys: list[ObjectIdentifierTypeDef] = [
                {"Key": item["Key"]} for item in page.get("Contents", [])
            ]
            if keys:
                self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": keys})
                deleted += len(keys)
        return deleted

    def _key(self, reference: str) -> str:
        return self._prefix + key_of(reference)


def named(owner: uuid.UUID, data: bytes) -> tuple[str, str]:
    """The reference and SHA-256 of the owner's bytes."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{SCHEME}{owner}/{digest}", digest


def key_of(reference: str) -> str:
    """`<owner>/<sha256>` of a reference, refusing any other shape (so none can name a path or
    key outside the store's)."""
    if not reference.startswith(SCHEME):
        raise ValueError(f"not a blob reference: {reference[:100]!r}")
    owner, _, digest = reference.removeprefix(SCHEME).partition("/")
    if not _is_uuid(owner) or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise ValueError(f"not a blob reference: {reference[:100]!r}")
    return f"{owner}/{digest}"


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def blob_store(settings: BlobSettings) -> BlobStore:
    """The store settings name: an S3-compatible bucket when `BLOB_S3_BUCKET` is set, else the
    local directory `BLOB_DIR`."""
    if settings.s3_bucket is None:
        return LocalBlobStore(Path(settings.dir))
    import boto3  # only a process that uses S3 loads it

    client = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region
    )
    return S3BlobStore(client, settings.s3_bucket, settings.s3_prefix)
