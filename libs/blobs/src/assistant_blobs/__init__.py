"""The blob store behind the claim check: uploaded bytes are kept by content hash and only a
reference crosses Kafka."""

from assistant_blobs.store import BlobStore, LocalBlobStore, blob_store

__all__ = ["BlobStore", "LocalBlobStore", "blob_store"]
