"""Uploads kept in an S3-compatible bucket (moto's server, speaking the S3 wire protocol to
boto3 in the gateway and ingestion processes) instead of the local directory: the gateway
writes the object, ingestion reads it, and deleting the document deletes the object."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from generation_stack import register
from ingestion_stack import IngestionStack, search, settled, start_ingestion_stack, upload
from moto.server import ThreadedMotoServer

BUCKET = "assistant-uploads"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local-secret"}


@pytest.fixture(scope="module")
def bucket() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, bucket: Any) -> Iterator[IngestionStack]:
    s3 = {
        "BLOB_S3_BUCKET": BUCKET,
        "BLOB_S3_ENDPOINT_URL": bucket.meta.endpoint_url,
        "BLOB_S3_REGION": "us-east-1",
        "BLOB_S3_PREFIX": "uploads/",
        **CREDENTIALS,
    }
    yield from start_ingestion_stack(tmp_path_factory.mktemp("unused"), s3)


def objects(bucket: Any, user_id: str) -> list[str]:
    listed = bucket.list_objects_v2(Bucket=BUCKET, Prefix=f"uploads/{user_id}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def test_uploads_live_in_the_bucket_and_leave_it_with_their_document(
    stack: IngestionStack, bucket: Any
) -> None:
    with stack.client() as http:
        user = register(http)
        phrase = f"bucketed {uuid.uuid4().hex}"
        [document] = upload(http, user, [("s3.txt", f"Stored in S3: {phrase}.".encode())])
        assert settled(http, user, document["document_id"])["status"] == "succeeded"
        [best] = search(http, user, phrase, mode="keyword")
        assert best["document_id"] == document["document_id"]
        [key] = objects(bucket, user.user_id)
        assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read().endswith(b".")
        assert not list(stack.blob_dir.rglob("*"))  # nothing written locally

        deleted = http.delete(f"/v1/documents/{document['document_id']}", headers=user.headers)
        assert deleted.status_code == 202, deleted.text
        deadline = time.monotonic() + 30
        while objects(bucket, user.user_id):
            assert time.monotonic() < deadline, "the object outlived its document"
            time.sleep(0.3)
        assert search(http, user, phrase, mode="keyword") == []
