"""The blob store behind the claim check: uploaded bytes are kept by content hash and only a
reference crosses Kafka."""

from assistant_blobs.settings import BlobSettings
from assistant_blobs.store import BlobStore, LocalBlobStore, S3BlobStore, blob_store

__all__ = ["BlobSettings", "BlobStore", "LocalBlobStore", "S3BlobStore", "blob_store"]
