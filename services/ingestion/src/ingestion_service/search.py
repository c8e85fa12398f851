"""Answering `search.query` over request/reply: vector, keyword or hybrid search (reciprocal rank
fusion of the two) over the caller's own chunks and the global collection's — never another
user's: every query is scoped by the envelope's user, whatever it asks for.

Vector search uses the index of this process's model (its query vector comes from the same
model) and walks its HNSW index with pgvector's iterative scan, so filters that remove many
neighbours still leave `top_k` results. While that index is being built, vector and hybrid
search answer 503 (keyword search goes on). Keyword search matches the query in English, Portuguese
and simple configurations at once, since a query does not say its language.
"""

from __future__ import annotations

import html
import uuid
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assistant_messaging.request_reply import replies
from assistant_schemas import Envelope
from assistant_schemas.documents import GLOBAL_COLLECTION_ID, collection_id
from assistant_schemas.queries import SearchHit, SearchQueryV1, SearchResultPayload, SearchResultV1
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.query_encoder import QueryEmbeddings
from ingestion_service.reindexing import ModelIndex
from ingestion_service.store import vector_literal

answer = partial(replies.answer, producer="ingestion")
refusal = partial(replies.refusal, producer="ingestion")

RRF_K = 60  # reciprocal rank fusion's damping constant
MATCH_CAP = 2000  # keyword matches ranked, at most
FILTERABLE = ("content_type", "filename", "language")
GLOBAL = "global"

# For this transaction (one round trip): keep walking the index past filtered-out neighbours
# until there are enough results, looking at 100 candidates at each step.
SEARCH_SETTINGS = text(
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
    " set_config('hnsw.ef_search', '100', true)"
)
SCOPE = "(c.user_id = :user_id OR c.collection_id = :global_id)"
QUERY = (
    "(websearch_to_tsquery('english', :q) || websearch_to_tsquery('portuguese', :q)"
    " || websearch_to_tsquery('simple', :q))"
)


class SearchQueries:
    def __init__(self, engine: AsyncEngine, queries: QueryEmbeddings, index: ModelIndex) -> None:
        self._engine = engine
        self._queries = queries
        self._index = index

    async def __call__(self, query: SearchQueryV1) -> Envelope[Any]:
        if query.user_id is None:
            return refusal(query, 400, "the query names no user")
        p = query.payload
        if not p.query.strip():
            return refusal(query, 400, "query: is empty")
        try:
            conditions, parameters = _filters(p.filters)
        except ValueError as error:
            return refusal(query, 400, str(error))
        parameters |= {
            "user_id": query.user_id,
            "global_id": GLOBAL_COLLECTION_ID,
            "q": p.query,
            "depth": max(p.top_k * 4, 40),
        }
        if p.collections:
            conditions.append("c.collection_id = ANY(:collections)")
            parameters["collections"] = [_collection(query.user_id, name) for name in p.collections]
        where = " AND ".join([SCOPE, *conditions])
        index = self._index.index
        if p.mode != "keyword":
            if index is None or index.state != "ready":
                return refusal(query, 503, self._not_serving())
            parameters["vector"] = vector_literal(await self._queries.vector(p.query))
        async with self._engine.connect() as connection, connection.begin():
            hits = await ranked_hits(connection, p.mode, where, parameters, p.top_k, index)
        return answer(query, SearchResultV1, SearchResultPayload(hits=hits))

    def _not_serving(self) -> str:
        return self._index.problem or (
            f"the search index of {self._index.model} is being built; vector and hybrid search"
            " resume once it is ready (keyword search works meanwhile)"
        )


def _collection(user_id: uuid.UUID, name: str) -> uuid.UUID:
    return GLOBAL_COLLECTION_ID if name == GLOBAL else collection_id(user_id, name)


def _filters(filters: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on the chunk's document, every value a bound parameter."""
    conditions: list[str] = []
    parameters: dict[str, Any] = {}
    for index, (field, value) in enumerate(sorted(filters.items())):
        wanted = str(value).lower() if isinstance(value, bool) else str(value)
        parameters[f"f{index}"] = wanted
        if field in FILTERABLE:
            conditions.append(f"d.{field} = :f{index}")
        elif field.startswith("metadata.") and len(field) > len("metadata."):
            parameters[f"k{index}"] = field.removeprefix("metadata.")
            conditions.append(f"d.metadata ->> :k{index} = :f{index}")
        else:
            raise ValueError(
                f"filters.{field}: unknown field; filter on {', '.join(FILTERABLE)} "
                "or metadata.<name>"
            )
    return conditions, parameters


def _vector_ranked(where: str, index: EmbeddingIndex) -> str:
    """The index's id and width are written into the SQL, not bound: only then does the planner
    see that its partial HNSW index (`WHERE index_id = <id>`, on `embedding::vector(<n>)`)
    applies. Both are integers of our own; `where` is built of constant fragments, and every
    value in it is a bound parameter. Its `c.` columns (owner, collection) are the vector rows'
    own copies, so each candidate is filtered without a lookup of its chunk."""
    distance = f"c.embedding::{index.vector_type} <=> CAST(:vector AS {index.vector_type})"
    return (
        f"SELECT c.chunk_id AS id, row_number() OVER (ORDER BY {distance}) AS r"  # noqa: S608
        " FROM ingestion.chunk_embeddings c JOIN ingestion.documents d ON d.id = c.document_id"
        f" WHERE c.index_id = {index.id} AND {where}"
        f" ORDER BY {distance} LIMIT :depth"
    )


def _keyword_ranked(where: str) -> str:
    """At most MATCH_CAP matches are ranked: exact for any selective query, and a bound on the
    cost of one made of very common words (which match most chunks; its vector half still
    ranks the whole collection in hybrid mode)."""
    return (
        f"SELECT m.id, row_number() OVER (ORDER BY ts_rank(m.tsv, {QUERY}) DESC) AS r"  # noqa: S608
        " FROM (SELECT c.id, c.tsv FROM ingestion.chunks c"
        " JOIN ingestion.documents d ON d.id = c.document_id"
        f" WHERE {where} AND c.tsv @@ {QUERY} LIMIT {MATCH_CAP}) m"
        f" ORDER BY ts_rank(m.tsv, {QUERY}) DESC LIMIT :depth"
    )


async def ranked_hits(
    connection: AsyncConnection,
    mode: str,
    where: str,
    parameters: dict[str, Any],
    top_k: int,
    index: EmbeddingIndex | None,
) -> list[SearchHit]:
    await connection.execute(SEARCH_SETTINGS)
    keyword = _keyword_ranked(where)
    if mode == "keyword":
        ranked = [keyword]
    else:
        assert index is not None, "vector search needs the model's index"
        ranked = [_vector_ranked(where, index)] + ([keyword] if mode == "hybrid" else [])
    union = " UNION ALL ".join(f"({part})" for part in ranked)
    statement = text(
        f"WITH ranked AS ({union}),"  # noqa: S608 - fragments are constants; values are bound
        f" fused AS (SELECT id, sum(1.0 / ({RRF_K} + r)) AS score FROM ranked GROUP BY id"
        "  ORDER BY score DESC LIMIT :top_k)"
        " SELECT c.id, c.document_id, c.text, c.section, f.score,"
        f"  CASE WHEN c.tsv @@ {QUERY} THEN ts_headline(CAST(coalesce(d.language, 'simple')"
        f"   AS regconfig), c.text, {QUERY}, 'MaxFragments=2, MaxWords=25, MinWords=8,"
        f" StartSel={MATCH_START}, StopSel={MATCH_STOP}')"
        "  END AS highlight"
        " FROM fused f JOIN ingestion.chunks c ON c.id = f.id"
        " JOIN ingestion.documents d ON d.id = c.document_id"
        " ORDER BY f.score DESC, c.id"
    )
    rows = await connection.execute(statement, {**parameters, "top_k": top_k})
    return [
        SearchHit(
            document_id=row.document_id,
            chunk_id=row.id,
            text=row.text,
            section=row.section,
            score=float(row.score),
            highlight=None if row.highlight is None else safe_highlight(row.highlight),
        )
        for row in rows
    ]


# Matches are marked with two private-use characters, not `<b>`: the document's own text is
# HTML-escaped first, and only then do the markers become tags, so a document's markup never
# reaches a page as markup.
MATCH_START, MATCH_STOP = "\ue000", "\ue001"


def safe_highlight(marked: str) -> str:
    """A highlight as HTML: the text escaped, each match in `<b>…</b>`."""
    return html.escape(marked).replace(MATCH_START, "<b>").replace(MATCH_STOP, "</b>")
