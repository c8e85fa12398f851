"""Contracts of the document domain: upload, ingestion progress and outcome, deletion."""

import uuid
from typing import Any, Literal

from pydantic import Field

from assistant_schemas.envelope import Contract, Envelope

IngestionStage = Literal["parsing", "chunking", "embedding", "indexing"]

GLOBAL_COLLECTION_ID = uuid.UUID("00000000-0000-0000-0000-00000000000a")
DEFAULT_COLLECTION = "default"


def collection_id(user_id: uuid.UUID, name: str) -> uuid.UUID:
    """A user's collection of that name: derived, so the gateway names it without asking and
    ingestion creates it on first use. Administrators' uploads to the global collection use
    `GLOBAL_COLLECTION_ID`."""
    return uuid.uuid5(user_id, f"collection:{name}")


class BlobReference(Contract):
    """Claim check: where the uploaded bytes are; the bytes never travel on Kafka."""

    uri: str = Field(max_length=2000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)
    content_type: str = Field(max_length=200)


class DocumentUploadedPayload(Contract):
    document_id: uuid.UUID
    request_id: uuid.UUID
    collection_id: uuid.UUID | None = None
    filename: str = Field(max_length=1000)
    blob: BlobReference
    metadata: dict[str, Any] = Field(default_factory=dict)


class DocumentProgressPayload(Contract):
    document_id: uuid.UUID
    request_id: uuid.UUID
    stage: IngestionStage
    completed: int = Field(ge=0)
    total: int = Field(ge=0)


class DocumentIngestedPayload(Contract):
    document_id: uuid.UUID
    request_id: uuid.UUID
    chunk_count: int = Field(ge=0)
    embedding_model: str
    dimensions: int = Field(ge=1)
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="Set when the upload collapsed into an existing document."
    )


class DocumentFailedPayload(Contract):
    document_id: uuid.UUID
    request_id: uuid.UUID
    stage: IngestionStage
    reason: str
    retryable: bool


class DocumentDeleteRequestedPayload(Contract):
    document_id: uuid.UUID
    request_id: uuid.UUID


class DocumentDeletedPayload(Contract):
    document_id: uuid.UUID
    request_id: uuid.UUID


class DocumentUploadedV1(Envelope[DocumentUploadedPayload]):
    type: Literal["document.uploaded"] = "document.uploaded"
    version: Literal[1] = 1


class DocumentProgressV1(Envelope[DocumentProgressPayload]):
    type: Literal["document.progress"] = "document.progress"
    version: Literal[1] = 1


class DocumentIngestedV1(Envelope[DocumentIngestedPayload]):
    type: Literal["document.ingested"] = "document.ingested"
    version: Literal[1] = 1


class DocumentFailedV1(Envelope[DocumentFailedPayload]):
    type: Literal["document.failed"] = "document.failed"
    version: Literal[1] = 1


class DocumentDeleteRequestedV1(Envelope[DocumentDeleteRequestedPayload]):
    type: Literal["document.delete_requested"] = "document.delete_requested"
    version: Literal[1] = 1


class DocumentDeletedV1(Envelope[DocumentDeletedPayload]):
    type: Literal["document.deleted"] = "document.deleted"
    version: Literal[1] = 1
