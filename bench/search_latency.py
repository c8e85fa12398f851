"""Search at 100,000 chunks: latency of vector, keyword and hybrid search, and recall@10 of the
HNSW index against exact search on the same queries.

The chunks belong to one user. Their vectors come from the real model: 2,000 generated sentences
are embedded with all-MiniLM-L6-v2, and each chunk's vector is a random mixture of two of them
plus noise (normalised), so the collection is a continuum like real text, not tight clusters.
Their text, for keyword search, is 40 words drawn from a 20,000-word vocabulary by Zipf's law,
as natural language is. The HNSW index is rebuilt after loading. Queries: 200 held-out
mixtures, each with two content words (vocabulary ranks 100 to 20,000); as the worst case,
200 queries of two of the ten most common words, which match most chunks; and 200 questions
of eight words drawn as text has them (Zipf), of which keyword search needs any one.

Measured: (a) the search SQL ingestion runs for each mode (`ingestion_service.search`), the
query's vector given; (b) exact vector search (the index off), the baseline for recall and for
latency; (c) `GET /v1/search` end to end, hybrid (gateway → Kafka → ingestion, which embeds the
query, → back).

    python -m bench.search_latency [--chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db import create_engine
from assistant_schemas.documents import GLOBAL_COLLECTION_ID, collection_id
from bench.harness import DATABASE_URL, percentile, search_stack
from ingestion_service import indexes
from ingestion_service.embedding import LocalEmbedder
from ingestion_service.indexes import EmbeddingIndex
from ingestion_service.search import SCOPE, ranked_hits
from ingestion_service.store import vector_literal

MODEL = "local/all-MiniLM-L6-v2"
BENCH_DOCUMENTS = text("DELETE FROM ingestion.documents WHERE filename = 'bench'")
WORDS = (
    "kafka", "postgres", "notion", "billing", "search", "backup", "alert", "invoice", "schema",
    "cluster", "replica", "index", "latency", "budget", "token", "report", "deploy", "release",
    "incident", "metric", "storage", "policy", "account", "team", "partition", "offset",
    "consumer", "producer", "vector", "embedding", "chunk", "document", "upload", "parser",
)  # fmt: skip


def letters(number: int) -> str:
    """`number` in base 26, written in letters: words of letters only, as a language has."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[digit] + word
        if number == 0:
            return word


VOCABULARY = [f"{WORDS[i % len(WORDS)]}{letters(i)}" for i in range(20_000)]
ZIPF = np.array([1 / rank for rank in range(1, len(VOCABULARY) + 1)])
ZIPF /= ZIPF.sum()


def chunk_text(rng: np.random.Generator) -> str:
    return " ".join(VOCABULARY[i] for i in rng.choice(len(VOCABULARY), 40, p=ZIPF))


def mixtures(seeds: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    first = seeds[rng.integers(0, len(seeds), count)]
    second = seeds[rng.integers(0, len(seeds), count)]
    weight = rng.uniform(0.5, 1.0, (count, 1))
    mixed = weight * first + (1 - weight) * second + rng.normal(0, 0.02, (count, seeds.shape[1]))
    normalised: np.ndarray = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return normalised


async def load(
    engine: AsyncEngine, user: uuid.UUID, vectors: np.ndarray
) -> tuple[EmbeddingIndex, float]:
    rng = np.random.default_rng(3)
    document = uuid.uuid4()
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(BENCH_DOCUMENTS)
        await connection.execute(
            text(
                "INSERT INTO ingestion.collections (id, user_id, name) VALUES (:c, :u, 'bench')"
                " ON CONFLICT DO NOTHING"
            ),
            {"c": collection_id(user, "bench"), "u": user},
        )
        await connection.execute(
            text(
                "INSERT INTO ingestion.documents (id, user_id, collection_id, request_id,"
                " filename, content_type, size_bytes, sha256, blob_uri, status, language)"
                " VALUES (:d, :u, :c, :d, 'bench', 'text/plain', 0, :sha, 'blob://bench',"
                " 'ingested', 'english')"
            ),
            {"d": document, "u": user, "c": collection_id(user, "bench"), "sha": uuid.uuid4().hex},
        )
        index = await indexes.find_or_create(connection, MODEL, vectors.shape[1])
        # Filled first and indexed after: much faster than growing the HNSW index row by row.
        await connection.execute(text(f"DROP INDEX ingestion.{indexes.hnsw_index_name(index)}"))
        insert = text(
            "WITH chunk AS (INSERT INTO ingestion.chunks (id, document_id, user_id,"
            " collection_id, ordinal, text, start_offset, end_offset, tokens, tsv)"
            " VALUES (:id, :d, :u, :c, :o, :t, 0, 0, 20, to_tsvector('english', :t))"
            " RETURNING id)"
            " INSERT INTO ingestion.chunk_embeddings (index_id, chunk_id, document_id, user_id,"
            " collection_id, embedding) SELECT :i, id, :d, :u, :c, CAST(:e AS vector) FROM chunk"
        )
        for start in range(0, len(vectors), 2000):
            rows = [
                {
                    "id": uuid.uuid4(),
                    "d": document,
                    "u": user,
                    "c": collection_id(user, "bench"),
                    "o": start + i,
                    "t": chunk_text(rng),
                    "e": vector_literal(vector.tolist()),
                    "i": index.id,
                }
                for i, vector in enumerate(vectors[start : start + 2000])
            ]
            await connection.execute(insert, rows)
        await connection.execute(text("SET maintenance_work_mem = '512MB'"))
        await connection.execute(text(indexes.hnsw_index_ddl(index)))
        index = await indexes.mark_ready(connection, index)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE ingestion.chunks"))
        await connection.execute(text("VACUUM ANALYZE ingestion.chunk_embeddings"))
    return index, time.perf_counter() - started


async def timed_searches(
    engine: AsyncEngine,
    user: uuid.UUID,
    queries: list[tuple[str, str]],
    mode: str,
    index: EmbeddingIndex,
) -> tuple[list[float], list[list[Any]]]:
    timings, results = [], []
    async with engine.connect() as connection:
        for vector, words in queries:
            parameters = {
                "user_id": user,
                "global_id": GLOBAL_COLLECTION_ID,
                "q": words,
                "depth": 40,
                "vector": vector,
            }
            started = time.perf_counter()
            async with connection.begin():
                hits = await ranked_hits(connection, mode, SCOPE, parameters, 10, index)
            timings.append((time.perf_counter() - started) * 1000)
            results.append([hit.chunk_id for hit in hits])
    return timings, results


async def exact_searches(
    engine: AsyncEngine, user: uuid.UUID, queries: list[tuple[str, str]]
) -> tuple[list[float], list[list[Any]]]:
    timings, results = [], []
    async with engine.connect() as connection:
        for vector, _ in queries:
            started = time.perf_counter()
            async with connection.begin():
                await connection.execute(text("SET LOCAL enable_indexscan = off"))
                rows = await connection.execute(
                    text(
                        "SELECT chunk_id FROM ingestion.chunk_embeddings WHERE user_id = :u"
                        " ORDER BY embedding <=> CAST(:v AS vector) LIMIT 10"
                    ),
                    {"u": user, "v": vector},
                )
                ids = [row[0] for row in rows]
            timings.append((time.perf_counter() - started) * 1000)
            results.append(ids)
    return timings, results


Ranked = tuple[list[float], list[list[Any]]]


async def in_database(
    user: uuid.UUID,
    vectors: np.ndarray,
    queries: list[tuple[str, str]],
    common: list[tuple[str, str]],
    questions: list[tuple[str, str]],
) -> tuple[float, Ranked, dict[str, Ranked]]:
    """Loads the chunks, then times exact search and each mode's search SQL."""
    engine = create_engine(DATABASE_URL, pool_size=2)
    try:
        index, loaded = await load(engine, user, vectors)
        exact = await exact_searches(engine, user, queries)
        modes = {
            mode: await timed_searches(engine, user, queries, mode, index)
            for mode in ("vector", "keyword", "hybrid")
        }
        for mode in ("keyword", "hybrid"):
            modes[f"{mode}, common words"] = await timed_searches(engine, user, common, mode, index)
            modes[f"{mode}, sentences"] = await timed_searches(engine, user, questions, mode, index)
        return loaded, exact, modes
    finally:
        await engine.dispose()


def line(name: str, timings: list[float], note: str = "") -> str:
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    return f"    {name:34} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  (n={len(timings)}){note}"


def main(chunk_count: int, query_count: int) -> None:
    rng = np.random.default_rng(11)
    words_rng = random.Random(5)
    model = LocalEmbedder(batch_size=64)
    sentences = [" ".join(words_rng.choice(WORDS) for _ in range(12)) for _ in range(2000)]
    seeds = np.array(model.embed(sentences))
    vectors = mixtures(seeds, chunk_count, rng)
    query_vectors = mixtures(seeds, query_count, rng)
    queries = [
        (
            vector_literal(v.tolist()),
            f"{words_rng.choice(VOCABULARY[100:])} {words_rng.choice(VOCABULARY[100:])}",
        )
        for v in query_vectors
    ]
    common = [
        (vector, f"{words_rng.choice(VOCABULARY[:10])} {words_rng.choice(VOCABULARY[:10])}")
        for vector, _ in queries
    ]
    questions = [  # eight words as text has them (Zipf): a question asked as a sentence
        (vector, " ".join(VOCABULARY[i] for i in rng.choice(len(VOCABULARY), 8, p=ZIPF)))
        for vector, _ in queries
    ]
    try:
        with search_stack(f"bench{uuid.uuid4().hex[:8]}") as stack:
            http, user, headers = stack
            loaded, (exact_ms, exact), results = asyncio.run(
                in_database(user, vectors, queries, common, questions)
            )
            print(
                f"Search over {chunk_count:,} chunks of one user (loaded and indexed in "
                f"{loaded:.0f} s); {query_count} queries, top 10"
            )
            recall = sum(
                len(set(found) & set(truth)) / 10
                for found, truth in zip(results["vector"][1], exact, strict=True)
            ) / len(exact)
            print(line("(b) exact vector search (no index)", exact_ms, "  (baseline)"))
            print(line("(a) vector (HNSW, iterative scan)", results["vector"][0]))
            print(line("(a) keyword (tsvector, GIN)", results["keyword"][0]))
            print(line("(a) hybrid (RRF of both)", results["hybrid"][0]))
            print(line("(a) keyword, two common words", results["keyword, common words"][0]))
            print(line("(a) hybrid, two common words", results["hybrid, common words"][0]))
            print(line("(a) keyword, eight-word sentences", results["keyword, sentences"][0]))
            print(line("(a) hybrid, eight-word sentences", results["hybrid, sentences"][0]))
            print(f"    recall@10 of HNSW against exact search: {recall:.3f}")
            gateway_ms = []
            for _, words in queries:
                started = time.perf_counter()
                answer = http.get("/v1/search", params={"q": words, "top_k": 10}, headers=headers)
                gateway_ms.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
            print(line("(c) GET /v1/search, hybrid", gateway_ms, "  (query embedded too)"))
    finally:
        asyncio.run(unload())


async def unload() -> None:
    """The bench's chunks go (their vectors and tsvectors with them), so a stack shared with
    the tests is left as it was."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(BENCH_DOCUMENTS)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    options = parser.parse_args()
    main(options.chunks, options.queries)
