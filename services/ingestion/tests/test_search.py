"""Search while the model's index is not ready: vector and hybrid queries are refused with a
503 that says why (they would otherwise mix models); the refusal needs neither the database
nor the model."""

import uuid
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_schemas import new_event
from assistant_schemas.queries import SearchQueryPayload, SearchQueryV1
from ingestion_service.batching import EmbeddingBatcher
from ingestion_service.query_encoder import QueryEmbeddings
from ingestion_service.reindexing import ModelIndex
from ingestion_service.search import SearchQueries


class UnusedModel:
    name = "remote/new-model"

    def dimensions(self) -> int:
        raise AssertionError("not asked")

    def count_tokens(self, texts: list[str]) -> list[int]:
        raise AssertionError("not asked")

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("not asked")


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
async def test_vector_search_waits_for_the_models_index(mode: str) -> None:
    no_database = cast(AsyncEngine, None)
    batcher = EmbeddingBatcher([UnusedModel()], batch_size=8)
    index = ModelIndex(no_database, batcher, catch_up_s=1, batch_size=8)
    search = SearchQueries(no_database, QueryEmbeddings(UnusedModel()), index, translator=None)
    query = new_event(
        SearchQueryV1,
        SearchQueryPayload(query="anything", mode=mode),
        correlation_id="c",
        producer="gateway",
        user_id=uuid.uuid4(),
    )
    answer = await search(query)
    assert answer.payload.status == 503
    assert "the search index of remote/new-model is being built" in answer.payload.reason
