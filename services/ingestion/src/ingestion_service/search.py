"""Answering `search.query` over request/reply: vector, keyword or hybrid search (reciprocal rank
fusion of the two) over the caller's own chunks and the global collection's — never another
user's: every query is scoped by the envelope's user, whatever it asks for.

Vector search uses the index of this process's model (its query vector comes from the same
model) and walks its HNSW index with pgvector's iterative scan, so filters that remove many
neighbours still leave `top_k` results. While that index is being built, vector and hybrid
search answer 503 (keyword search goes on). Keyword search takes any of the query's words
(keywords.py), in English, Portuguese and simple configurations at once, since a query does not
say its language. A query's Portuguese words bring their English translations with them
(translation.py), for both sides.
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
from ingestion_service.keywords import keyword_terms
from ingestion_service.query_encoder import QueryEmbeddings
from ingestion_service.reindexing import ModelIndex
from ingestion_service.store import vector_literal
from ingestion_service.translation import QueryTranslator

answer = partial(replies.answer, producer="ingestion")
refusal = partial(replies.refusal, producer="ingestion")

RRF_K = 60  # reciprocal rank fusion's damping constant
# A document's second chunk counts this much of its score, its third this much squared, and so
# on: neighbouring chunks of one page say much the same, and ten hits should reach more than a
# few pages (measured in docs/benchmarks.md). A much better second chunk still comes first.
SAME_DOCUMENT_DECAY = 0.8
# What the keyword side's ranks weigh in hybrid fusion against the vector side's: half, for a
# query of words (its ranking knows no inverse document frequency, and measured on a real
# manual, equal weights pulled hybrid below the model's own ranking); equal, for a query with a
# code or a quoted phrase, which only the keyword side can match exactly (docs/benchmarks.md).
WORDS_WEIGHT, EXACT_WEIGHT = 0.5, 1.0
MATCH_CAP = 2000  # keyword matches ranked, at most
FILTERABLE = ("content_type", "filename", "language")
GLOBAL = "global"

# For this transaction: keep walking the index past filtered-out neighbours until there are
# enough results, looking at 100 candidates at each step; and no notice for each stop word left
# out of a keyword query.
SETTINGS = (
    "set_config('hnsw.iterative_scan', 'relaxed_order', true),"
    " set_config('hnsw.ef_search', '100', true),"
    " set_config('client_min_messages', 'warning', true)"
)
SCOPE = "(c.user_id = :user_id OR c.collection_id = :global_id)"


def _in_every_language(of: str, term: str) -> str:
    return f"({of}('english', {term}) || {of}('portuguese', {term}) || {of}('simple', {term}))"


# Lexemes in more than this share of all chunks say almost nothing of a chunk (BM25 gives them
# an inverse document frequency near zero), yet would make a question match most of them.
COMMON_SHARE = 0.1

# The query's terms as text search queries, and their disjunction. A word is the distinct
# lexemes it has in English, Portuguese and the simple configuration (a query does not say its
# language; each lexeme once, so that no word counts thrice in the rank); it is no term if it is
# a stop word in English or Portuguese, or if it is in more than COMMON_SHARE of the chunks (by
# the planner's statistics, which ANALYZE keeps) — unless every word is: then all of them are
# needed, since any one of them would match most chunks.
# Queries are joined through their own text form, which `tsquery` reads back as written.
KEYWORDS = (
    "common AS (SELECT e.lexeme FROM pg_stats s,"  # noqa: S608 - constant fragments, bound values
    "  unnest(CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs)"
    "   AS e(lexeme, share)"
    "  WHERE s.schemaname = 'ingestion' AND s.tablename = 'chunks' AND s.attname = 'tsv'"
    f"  AND e.share > {COMMON_SHARE}),"
    " words AS (SELECT ARRAY(SELECT DISTINCT unnest(tsvector_to_array("
    f"   {_in_every_language('to_tsvector', 'w')}))) AS lexemes"
    "  FROM unnest(CAST(:words AS text[])) w"
    "  WHERE numnode(websearch_to_tsquery('english', w)) > 0"
    "   AND numnode(websearch_to_tsquery('portuguese', w)) > 0),"
    " rare AS (SELECT * FROM words WHERE NOT lexemes && ARRAY(SELECT lexeme FROM common)),"
    " terms AS (SELECT CAST((SELECT string_agg(CAST(websearch_to_tsquery('simple', l) AS text),"
    "   ' | ') FROM unnest(lexemes) l) AS tsquery) AS q"
    "  FROM (SELECT * FROM rare UNION ALL"
    "   SELECT * FROM words WHERE NOT EXISTS (SELECT FROM rare)) kept"
    f"  UNION ALL SELECT {_in_every_language('phraseto_tsquery', 'e')}"
    "  FROM unnest(CAST(:exact AS text[])) e),"
    " keywords AS (SELECT string_agg('(' || CAST(q AS text) || ')',"
    "   CASE WHEN EXISTS (SELECT FROM rare) THEN ' | ' ELSE ' & ' END) AS query,"
    f"  CAST({_in_every_language('websearch_to_tsquery', 'CAST(:excluded AS text)')} AS text)"
    "   AS excluded"
    "  FROM terms WHERE numnode(q) > 0)"
)
# The settings and the keyword query, in the round trip before the search: the search then has
# its query as a value, which the planner sees (a query of common words is best read by a scan
# that stops at MATCH_CAP matches, a rare one through the GIN index; a query computed inside
# the statement is a guess to the planner, and it guessed wrong).
SEARCH_SETTINGS = text(f"WITH {KEYWORDS} SELECT {SETTINGS}, query, excluded FROM keywords")  # noqa: S608
QUERY, EXCLUDED = "CAST(:query AS tsquery)", "CAST(:excluded_query AS tsquery)"


class SearchQueries:
    def __init__(
        self,
        engine: AsyncEngine,
        queries: QueryEmbeddings,
        index: ModelIndex,
        translator: QueryTranslator | None,
    ) -> None:
        self._engine = engine
        self._queries = queries
        self._index = index
        self._translator = translator

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
        searched = self._with_english_words(p.query)
        parameters |= {
            "user_id": query.user_id,
            "global_id": GLOBAL_COLLECTION_ID,
            "q": searched,
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
            parameters["vector"] = vector_literal(await self._queries.vector(searched))
        async with self._engine.connect() as connection, connection.begin():
            hits = await ranked_hits(connection, p.mode, where, parameters, p.top_k, index)
        return answer(query, SearchResultV1, SearchResultPayload(hits=hits))

    def _with_english_words(self, query: str) -> str:
        """The query and, after it, the English words for its Portuguese ones."""
        english = self._translator.english_words(query) if self._translator else []
        return " ".join([query, *english])

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
        f"SELECT c.chunk_id AS id, c.document_id, 1.0 AS weight,"  # noqa: S608
        f" row_number() OVER (ORDER BY {distance}) AS r"
        " FROM ingestion.chunk_embeddings c JOIN ingestion.documents d ON d.id = c.document_id"
        f" WHERE c.index_id = {index.id} AND {where}"
        f" ORDER BY {distance} LIMIT :depth"
    )


def _keyword_ranked(where: str) -> str:
    """Chunks with any of the query's terms, ranked by `ts_rank` (over a disjunction it sums
    what each term found, so more of the terms rank higher; `ts_rank_cd`'s cover density cost
    five times as much). At most MATCH_CAP matches are ranked: exact for
    any selective query, and a bound on the cost of one made of very common words (which match
    most chunks; its vector half still ranks the whole collection in hybrid mode)."""
    return (
        "SELECT m.id, m.document_id, CAST(:keyword_weight AS numeric) AS weight,"  # noqa: S608
        " row_number() OVER (ORDER BY m.rank DESC) AS r"
        f" FROM (SELECT c.id, c.document_id, ts_rank(c.tsv, {QUERY}) AS rank"
        "  FROM ingestion.chunks c JOIN ingestion.documents d ON d.id = c.document_id"
        f"  WHERE {where} AND c.tsv @@ {QUERY}"
        f"   AND NOT (numnode({EXCLUDED}) > 0 AND c.tsv @@ {EXCLUDED})"
        f"  LIMIT {MATCH_CAP}) m"
        " ORDER BY m.rank DESC LIMIT :depth"
    )


async def ranked_hits(
    connection: AsyncConnection,
    mode: str,
    where: str,
    parameters: dict[str, Any],
    top_k: int,
    index: EmbeddingIndex | None,
) -> list[SearchHit]:
    terms = keyword_terms(str(parameters["q"]))
    keywords = await connection.execute(
        SEARCH_SETTINGS,
        {"words": terms.words, "exact": terms.exact, "excluded": " or ".join(terms.excluded)},
    )
    query, excluded = keywords.one()[-2:]
    parameters = {
        **parameters,
        "query": query,
        "excluded_query": excluded,
        "top_k": top_k,
        "keyword_weight": EXACT_WEIGHT if terms.exact else WORDS_WEIGHT,
    }
    keyword = _keyword_ranked(where)
    if mode == "keyword":
        ranked = [keyword]
    else:
        assert index is not None, "vector search needs the model's index"
        ranked = [_vector_ranked(where, index)] + ([keyword] if mode == "hybrid" else [])
    union = " UNION ALL ".join(f"({part})" for part in ranked)
    statement = text(
        f"WITH ranked AS ({union}),"  # noqa: S608 - fragments are constants; values are bound
        f" fused AS (SELECT id, document_id, sum(weight / ({RRF_K} + r)) AS score FROM ranked"
        "  GROUP BY id, document_id),"
        f" spread AS (SELECT id, score * power({SAME_DOCUMENT_DECAY}, row_number() OVER"
        "   (PARTITION BY document_id ORDER BY score DESC) - 1) AS score"
        "  FROM fused ORDER BY score DESC LIMIT :top_k)"
        " SELECT c.id, c.document_id, c.text, c.section, f.score, d.title, d.filename,"
        "  d.metadata ->> 'source_url' AS source_url,"
        f"  CASE WHEN c.tsv @@ {QUERY} THEN ts_headline(CAST(coalesce(d.language, 'simple')"
        f"   AS regconfig), c.text, {QUERY}, 'MaxFragments=2, MaxWords=25, MinWords=8,"
        f" StartSel={MATCH_START}, StopSel={MATCH_STOP}')"
        "  END AS highlight"
        " FROM spread f JOIN ingestion.chunks c ON c.id = f.id"
        " JOIN ingestion.documents d ON d.id = c.document_id"
        " ORDER BY f.score DESC, c.id"
    )
    rows = await connection.execute(statement, parameters)
    return [
        SearchHit(
            document_id=row.document_id,
            chunk_id=row.id,
            text=row.text,
            section=row.section,
            score=float(row.score),
            highlight=None if row.highlight is None else safe_highlight(row.highlight),
            title=row.title,
            filename=row.filename,
            source_url=web_address(row.source_url),
        )
        for row in rows
    ]


# Matches are marked with two private-use characters, not `<b>`: the document's own text is
# HTML-escaped first, and only then do the markers become tags, so a document's markup never
# reaches a page as markup.
MATCH_START, MATCH_STOP = "\ue000", "\ue001"


def web_address(value: str | None) -> str | None:
    """A document's `source_url` if it is a web address: it becomes a link in a page, where a
    `javascript:` one would run."""
    if value and value.lower().startswith(("https://", "http://")):
        return value
    return None


def safe_highlight(marked: str) -> str:
    """A highlight as HTML: the text escaped, each match in `<b>…</b>`."""
    return html.escape(marked).replace(MATCH_START, "<b>").replace(MATCH_STOP, "</b>")
