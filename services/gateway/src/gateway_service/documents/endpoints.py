"""`/v1/documents`: upload (multipart; the bytes go to the blob store, only a reference to
Kafka), the status of one, retry after a failure, delete.

A document's status is its latest request's, from the gateway's status projection, which
follows ingestion's `document.*` events.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant_blobs import BlobStore
from assistant_blobs.store import named
from assistant_db import driver_connection
from assistant_messaging.publishing.outbox import outbox_row
from assistant_schemas.documents import (
    DEFAULT_COLLECTION,
    GLOBAL_COLLECTION_ID,
    BlobReference,
    DocumentDeleteRequestedPayload,
    DocumentDeleteRequestedV1,
    DocumentUploadedPayload,
    DocumentUploadedV1,
    collection_id,
)
from assistant_schemas.ids import new_id
from assistant_schemas.queries import (
    DocumentsQueryPayload,
    DocumentsQueryV1,
    DocumentsResultPayload,
    DocumentsResultV1,
    DocumentSummary,
)
from gateway_service.admission import gate
from gateway_service.admission.dependencies import admission_of
from gateway_service.admission.gate import Acceptance, StatusRow
from gateway_service.auth.callers import Caller
from gateway_service.documents.filenames import display_name, safe_filename
from gateway_service.documents.sniffing import SUPPORTED, sniffed_type
from gateway_service.http.dependencies import Session, presented_credential, scoped
from gateway_service.http.error_docs import errors, idempotent
from gateway_service.http.events import caller_event
from gateway_service.http.idempotency import claim_or_replay, remember
from gateway_service.http.problems import Problem
from gateway_service.http.queries import Replies, ask
from gateway_service.http.text_guard import nul_path
from gateway_service.requests.repository import Requests, Status

router = APIRouter(prefix="/v1/documents", tags=["documents"])

SCOPE, UPLOAD = "documents", "upload"
DocumentsCaller = Annotated[Caller, Depends(scoped(SCOPE))]
MAX_FILES = 20
MAX_METADATA_BYTES = 10_000
COLLECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
GLOBAL = "global"
# Largest file per plan tier.
FILE_LIMITS = {"solo": 10 * 1024 * 1024, "team": 50 * 1024 * 1024, "enterprise": 100 * 1024 * 1024}


class UploadedDocument(BaseModel):
    document_id: uuid.UUID
    request_id: uuid.UUID
    filename: str
    status_url: str


class Uploaded(BaseModel):
    documents: list[UploadedDocument]


class DocumentStatus(BaseModel):
    """One document, by its own id; the rest is from its latest request (upload, retry or
    deletion)."""

    id: uuid.UUID = Field(description="The document's id, the one in the URL.")
    request_id: uuid.UUID = Field(
        description="Its latest request: the upload, a retry or a delete."
    )
    status: Status
    stage: str | None = Field(
        description="The stage under way while `running` (parsing, chunking, embedding, "
        "indexing); null once it succeeded or failed (a failure's `detail.error.stage` says "
        "where)."
    )
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def blobs(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blobs
    return store


def sent_name(sent: str | None) -> dict[str, str]:
    """The file's name as the client sent it, where it differs from the name kept."""
    shown = display_name(sent)
    return {} if shown is None else {"original_filename": shown}


@router.post(
    "",
    status_code=202,
    response_model=Uploaded,
    summary="Upload documents to a collection of yours (administrators: `global`) for search",
    responses=errors(409, 415, 429),
    openapi_extra=idempotent(),
)
async def upload(
    caller: DocumentsCaller,
    session: Session,
    request: Request,
    files: Annotated[list[UploadFile], File(description=f"1 to {MAX_FILES} files")],
    collection: Annotated[str, Form()] = DEFAULT_COLLECTION,
    metadata: Annotated[str | None, Form(description="A JSON object kept with each")] = None,
) -> JSONResponse:
    target = _collection(caller, collection)
    extra = _metadata(metadata)
    if not 1 <= len(files) <= MAX_FILES:
        raise _invalid("files", f"send 1 to {MAX_FILES} files")
    limit = FILE_LIMITS.get(caller.plan_tier, FILE_LIMITS["solo"])
    contents = [await _read(file, index, limit) for index, file in enumerate(files)]
    # The form was parsed into its parts, so the key's fingerprint is taken from them.
    sent = [collection, metadata or "", *(f"{f.filename}" for f in files)]
    fingerprint = b"\0".join([*(part.encode() for part in sent), *(d for d, _ in contents)])
    claim = await claim_or_replay(session, caller.user_id, request, content=fingerprint)
    if isinstance(claim, JSONResponse):
        await session.rollback()  # the key's transaction ends: a replay writes nothing
        await admission_of(await _query(request, UPLOAD), request)  # counted as any request
        return claim
    uploads = [
        _upload(
            caller, target, file.filename, data, content_type, {**extra, "collection": collection}
        )
        for file, (data, content_type) in zip(files, contents, strict=True)
    ]
    work = Acceptance(
        caller.user_id,
        [StatusRow(u.request_id, "document", _upload_detail(u, collection)) for u in uploads],
        [outbox_row(caller_event(DocumentUploadedV1, u, caller, request)) for u in uploads],
    )
    await _accepted(session, request, UPLOAD, work)
    for data, _ in contents:  # only once admitted: a refused upload leaves no bytes behind
        await asyncio.to_thread(blobs(request).put, caller.user_id, data)
    body = Uploaded(
        documents=[
            UploadedDocument(
                document_id=u.document_id,
                request_id=u.request_id,
                filename=u.filename,
                status_url=f"/v1/documents/{u.document_id}",
            )
            for u in uploads
        ]
    ).model_dump(mode="json")
    await remember(session, claim, 202, body)
    await session.commit()
    return JSONResponse(body, status_code=202)


def _upload(
    caller: Caller,
    target: uuid.UUID,
    sent_filename: str | None,
    data: bytes,
    content_type: str,
    metadata: dict[str, Any],
) -> DocumentUploadedPayload:
    uri, digest = named(caller.user_id, data)
    return DocumentUploadedPayload(
        document_id=new_id(),
        request_id=new_id(),
        collection_id=target,
        filename=safe_filename(sent_filename),
        blob=BlobReference(uri=uri, sha256=digest, size_bytes=len(data), content_type=content_type),
        metadata={**metadata, **sent_name(sent_filename)},
    )


def _upload_detail(upload: DocumentUploadedPayload, collection: str) -> dict[str, Any]:
    """What the status row keeps of an upload: its upload event whole, for a retry."""
    return {
        "document_id": str(upload.document_id),
        "filename": upload.filename,
        "collection": collection,
        "size_bytes": upload.blob.size_bytes,
        "upload": upload.model_dump(mode="json"),
    }


class DocumentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any] | None = None
    collection: str | None = Field(default=None, pattern=COLLECTION_NAME.pattern)


@router.get("", summary="Your documents, newest first, a page at a time")
async def list_documents(
    caller: DocumentsCaller,
    request: Request,
    replies: Replies,
    status: Literal["processing", "ingested", "failed"] | None = None,
    type: Annotated[
        str | None, Query(max_length=200, description="A content type, e.g. application/pdf")
    ] = None,
    collection: Annotated[str | None, Query(pattern=COLLECTION_NAME.pattern)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DocumentsResultPayload:
    payload = DocumentsQueryPayload(
        action="list",
        status=status,
        content_type=type,
        collection=collection,
        cursor=cursor,
        limit=limit,
    )
    return await _ask_documents(replies, request, caller, payload)


@router.patch(
    "/{document_id}", summary="Change a document's metadata or collection (no re-embedding)"
)
async def patch_document(
    document_id: uuid.UUID,
    body: DocumentPatch,
    caller: DocumentsCaller,
    request: Request,
    replies: Replies,
) -> DocumentSummary:
    if body.collection == GLOBAL:
        raise _invalid("collection", "a document moves between your own collections only")
    if body.metadata is not None and len(json.dumps(body.metadata).encode()) > MAX_METADATA_BYTES:
        raise _invalid("metadata", f"at most {MAX_METADATA_BYTES} bytes")
    payload = DocumentsQueryPayload(
        action="update",
        document_id=document_id,
        metadata=body.metadata,
        new_collection=body.collection,
    )
    [summary] = (await _ask_documents(replies, request, caller, payload)).documents
    return summary


@router.get("/{document_id}", summary="A document's status: per-stage progress, or its error")
async def get_document(
    document_id: uuid.UUID, caller: DocumentsCaller, session: Session
) -> DocumentStatus:
    latest = await _latest(session, caller, document_id)
    # The upload's own event (blob reference included) is kept for a retry, not shown.
    detail = {k: v for k, v in latest.detail.items() if k not in {"document_id", "stage", "upload"}}
    return DocumentStatus(
        id=document_id,
        request_id=latest.id,
        status=latest.status,
        stage=latest.detail.get("stage") if latest.status == "running" else None,
        detail=detail,
        created_at=latest.created_at,
        updated_at=latest.updated_at,
    )


@router.post(
    "/{document_id}/retry",
    status_code=202,
    summary="Ingest a failed document again (after fixing what its error named)",
    responses=errors(409, 429),
)
async def retry(
    document_id: uuid.UUID,
    caller: DocumentsCaller,
    session: Session,
    request: Request,
) -> JSONResponse:
    latest = await _latest(session, caller, document_id)
    if latest.status != "failed" or "upload" not in latest.detail:
        raise Problem(
            409,
            "document-not-failed",
            "Nothing to retry",
            f"document {document_id} is {latest.status}: only a failed upload is retried",
        )
    again = DocumentUploadedPayload.model_validate(
        {**latest.detail["upload"], "request_id": str(new_id())}
    )
    detail = {**latest.detail, "upload": again.model_dump(mode="json"), "error": None}
    work = Acceptance(
        caller.user_id,
        [StatusRow(again.request_id, "document", detail)],
        [outbox_row(caller_event(DocumentUploadedV1, again, caller, request))],
    )
    await _accepted(session, request, UPLOAD, work)
    await session.commit()
    status_url = f"/v1/documents/{document_id}"
    return JSONResponse(
        {
            "document_id": str(document_id),
            "request_id": str(again.request_id),
            "status_url": status_url,
        },
        status_code=202,
    )


@router.delete("/{document_id}", status_code=202, summary="Delete a document, its chunks and bytes")
async def delete_document(
    document_id: uuid.UUID,
    caller: DocumentsCaller,
    session: Session,
    request: Request,
) -> JSONResponse:
    await _latest(session, caller, document_id)  # 404 unless it is the caller's
    request_id = new_id()
    deleting = DocumentDeleteRequestedPayload(document_id=document_id, request_id=request_id)
    work = Acceptance(
        caller.user_id,
        [StatusRow(request_id, "document", {"document_id": str(document_id), "deleting": True})],
        [outbox_row(caller_event(DocumentDeleteRequestedV1, deleting, caller, request))],
    )
    await _accepted(session, request, None, work)  # a deletion is not rate limited
    await session.commit()
    return JSONResponse(
        {"document_id": str(document_id), "request_id": str(request_id)}, status_code=202
    )


async def _ask_documents(
    replies: Replies, request: Request, caller: Caller, payload: DocumentsQueryPayload
) -> DocumentsResultPayload:
    query = caller_event(DocumentsQueryV1, payload, caller, request)
    return (await ask(replies, query, DocumentsResultV1)).payload


async def _query(request: Request, family: str | None) -> gate.Query:
    return gate.Query(await presented_credential(request), family, SCOPE, check_budget=False)


async def _accepted(
    session: Session, request: Request, family: str | None, work: Acceptance
) -> None:
    """`work` written in `session`'s transaction if the request is admitted (counted in
    `family`), or the problem that refuses it."""
    query = await _query(request, family)
    await admission_of(query, request, work, await driver_connection(session))


async def _latest(session: Session, caller: Caller, document_id: uuid.UUID) -> Any:
    found = await Requests(session).of_document(caller.user_id, document_id)
    if found is None:
        raise Problem(404, "not-found", "No such document", f"you have no document {document_id}")
    return found


def _collection(caller: Caller, name: str) -> uuid.UUID:
    if name == GLOBAL:
        if not caller.is_admin:
            raise Problem(
                403, "forbidden", "Administrators only", "collection: only administrators add "
                "to the global collection",
            )  # fmt: skip
        return GLOBAL_COLLECTION_ID
    if not COLLECTION_NAME.match(name):
        raise _invalid("collection", "1 to 64 lower-case letters, digits, '-' or '_'")
    return collection_id(caller.user_id, name)


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    if len(raw.encode()) > MAX_METADATA_BYTES:
        raise _invalid("metadata", f"at most {MAX_METADATA_BYTES} bytes")
    try:
        found = json.loads(raw)
    except ValueError:
        raise _invalid("metadata", "must be a JSON object") from None
    if not isinstance(found, dict):
        raise _invalid("metadata", "must be a JSON object")
    broken = nul_path(found)
    if broken is not None:
        raise _invalid(f"metadata.{broken}", "text must not contain the NUL character (\\u0000)")
    return found


async def _read(file: UploadFile, index: int, limit: int) -> tuple[bytes, str]:
    data = await file.read(limit + 1)
    where = f"files[{index}] ({safe_filename(file.filename)})"
    if len(data) > limit:
        raise Problem(
            413,
            "file-too-large",
            "File too large",
            f"{where}: larger than your plan's {limit // (1024 * 1024)} MB per file",
        )
    if not data.strip():
        raise _invalid(f"files[{index}]", f"{safe_filename(file.filename)} is empty")
    content_type = sniffed_type(data)
    if content_type is None:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported document type",
            f"{where}: its bytes are not {SUPPORTED}",
        )
    return data, content_type


def _invalid(field: str, rule: str) -> Problem:
    return Problem(422, "invalid-document", "Invalid upload", f"{field}: {rule}")
