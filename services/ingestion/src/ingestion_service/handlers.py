"""Everything the ingestion service receives: uploads to ingest, documents and accounts to
delete (jobs, run by `ingesting`), and queries: searches and document listings."""

from collections.abc import Mapping

from assistant_messaging.consuming.router import EventRouter
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.documents import DocumentDeleteRequestedV1, DocumentUploadedV1
from assistant_schemas.queries import DocumentsQueryV1, SearchQueryV1
from ingestion_service.document_queries import DocumentQueries
from ingestion_service.ingesting import DocumentIngester
from ingestion_service.search import SearchQueries

router = EventRouter("ingestion")
router.answers(SearchQueryV1, SearchQueries)
router.answers(DocumentsQueryV1, DocumentQueries)


@router.job(DocumentUploadedV1)
async def ingest(
    event: DocumentUploadedV1, _headers: Mapping[str, str], ingester: DocumentIngester
) -> None:
    await ingester.ingest(event)


@router.abandons(DocumentUploadedV1)
async def ingestion_abandoned(
    event: DocumentUploadedV1, _headers: Mapping[str, str], why: str, ingester: DocumentIngester
) -> None:
    await ingester.abandon(event, why)


@router.job(DocumentDeleteRequestedV1)
async def delete_document(
    event: DocumentDeleteRequestedV1, _headers: Mapping[str, str], ingester: DocumentIngester
) -> None:
    await ingester.delete(event)


@router.job(AccountDeletedV1)
async def forget_account(
    event: AccountDeletedV1, _headers: Mapping[str, str], ingester: DocumentIngester
) -> None:
    await ingester.forget(event)
