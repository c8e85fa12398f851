"""Grounding a request in the user's documents (`rag` on the request): sources found through
ingestion's search — the same query, scoping and ranking as `GET /v1/search` — are given to the
model with numbered markers, and come back as the answer's citations."""

from __future__ import annotations

import uuid

from assistant_messaging.request_reply.requester import ReplyTimeout, Requester
from assistant_schemas import new_event
from assistant_schemas.generation import Citation, RetrievalOptions
from assistant_schemas.queries import (
    QueryFailedV1,
    SearchHit,
    SearchQueryPayload,
    SearchQueryV1,
    SearchResultV1,
)
from generation_service.providers.base import ProviderError

MAX_QUERY = 4000


class Retriever:
    def __init__(self, requester: Requester, timeout_s: float) -> None:
        self._requester = requester
        self._timeout_s = timeout_s

    async def sources(
        self, user_id: uuid.UUID, question: str, options: RetrievalOptions, correlation_id: str
    ) -> list[SearchHit]:
        """The user's chunks that answer `question` best; a failed search fails the request
        (answering ungrounded when grounding was asked for would mislead)."""
        query = new_event(
            SearchQueryV1,
            SearchQueryPayload(
                query=question[:MAX_QUERY] or " ",
                collections=options.collections,
                top_k=options.top_k,
                mode=options.mode,
            ),
            correlation_id=correlation_id,
            producer="generation",
            user_id=user_id,
        )
        try:
            found = await self._requester.ask(query, timeout=self._timeout_s)
        except ReplyTimeout:
            raise _failed("the document search did not answer in time", retryable=True) from None
        if isinstance(found, QueryFailedV1):
            raise _failed(f"the document search refused: {found.payload.reason}", retryable=False)
        if not isinstance(found, SearchResultV1):
            raise _failed(f"the document search answered {found.type}", retryable=True)
        return found.payload.hits


def grounding(sources: list[SearchHit]) -> str:
    """The system prompt's part that carries the sources, each under its marker."""
    if not sources:
        return "No document of the user's matched this question; say so if it needs one."
    blocks = [
        f"[{number}] {_named(source)}\n{source.text}" for number, source in enumerate(sources, 1)
    ]
    return (
        "Answer from the numbered sources below when they are relevant, citing them as [n]; "
        "say when they do not contain the answer.\n\n" + "\n\n".join(blocks)
    )


def _named(source: SearchHit) -> str:
    """A source as the model is told of it: its section path (which starts with its document's
    title), else its document's title or file name."""
    return source.section or source.title or source.filename or f"document {source.document_id}"


def citations(sources: list[SearchHit]) -> list[Citation]:
    return [
        Citation(
            document_id=s.document_id, chunk_id=s.chunk_id, section=s.section, title=s.title,
            filename=s.filename, source_url=s.source_url,
        )
        for s in sources
    ]  # fmt: skip


def _failed(message: str, *, retryable: bool) -> ProviderError:
    return ProviderError("retrieval_failed", message, retryable=retryable)
