"""How document events move a document's request status (the mapping alone, no database)."""

import uuid

from assistant_schemas.documents import DocumentIngestedPayload
from gateway_service.requests.projection import document_ingested


def ingested(duplicate_of: uuid.UUID | None = None) -> DocumentIngestedPayload:
    return DocumentIngestedPayload(
        document_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        chunk_count=7,
        embedding_model="local/all-MiniLM-L6-v2",
        dimensions=384,
        duplicate_of=duplicate_of,
    )


def test_an_ingested_document_shows_every_stage_done() -> None:
    [(_, kind, status, detail)] = document_ingested(ingested())
    assert (kind, status) == ("document", "succeeded")
    assert detail["parsing"] == {"completed": 1, "total": 1}
    for stage in ("chunking", "embedding", "indexing"):
        assert detail[stage] == {"completed": 7, "total": 7}


def test_a_duplicate_ran_no_stage() -> None:
    original = uuid.uuid4()
    [(_, _, status, detail)] = document_ingested(ingested(duplicate_of=original))
    assert status == "succeeded"
    assert detail["duplicate_of"] == str(original)
    assert not {"parsing", "chunking", "embedding", "indexing"} & detail.keys()
