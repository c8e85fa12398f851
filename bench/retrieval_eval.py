"""Retrieval quality on a real manual: Python's library reference (Debian's `python3.11-doc`,
317 HTML pages) uploaded through the gateway and ingested by the real pipeline; 101 questions
written from the pages (`bench.retrieval_questions`: with the pages' terms, as people ask, and in
Portuguese over the English pages).

Reported per set and mode (keyword, vector, hybrid through `GET /v1/search`), at the level of
pages (a page's chunks count once, at its best rank): nDCG@10, recall@10 and MRR@10; and, for
keyword search, the share of questions with at least one relevant page in its top 10. Two
baselines of the same run, outside the system, over the very chunks ingestion stored: BM25
(`bm25s`, English stemming and stop words) and the embedding model alone (the stored vectors,
exact cosine, the question embedded by the same model).

    python -m bench.retrieval_eval          # the bench stack (STACK_PROFILE=test for the test one)

The pages come from Debian's archive (`apt-get download`), kept in `.local/corpus/`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import bm25s
import httpx
import numpy as np
import Stemmer
from sqlalchemy import text

from assistant_db import create_engine
from bench.harness import DATABASE_URL, search_stack
from bench.retrieval_questions import SETS, Question
from ingestion_service.chunking import embedded_text
from ingestion_service.embedding import LocalEmbedder

CORPUS = Path(__file__).resolve().parents[1] / ".local" / "corpus"
PACKAGE = "python3.11-doc"
PAGES = CORPUS / "usr/share/doc/python3.11/html/library"
COLLECTION = "pydoc"
DEPTH = 50  # chunks asked for, so that ten distinct pages remain
K = 10


def pages() -> list[Path]:
    """The manual's library pages, unpacked from Debian's package on first use."""
    if not PAGES.is_dir():
        CORPUS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", PACKAGE], cwd=CORPUS, check=True)
        [package] = CORPUS.glob(f"{PACKAGE}_*.deb")
        subprocess.run(["dpkg-deb", "-x", str(package), str(CORPUS)], check=True)
    return sorted(PAGES.glob("*.html"))


def ranked_pages(filenames: Iterable[str]) -> list[str]:
    """Each page once, at its best rank."""
    seen: list[str] = []
    for name in filenames:
        if name not in seen:
            seen.append(name)
    return seen


def scores(ranked: list[str], relevant: tuple[str, ...]) -> tuple[float, float, float]:
    """nDCG@K, recall@K and MRR@K of one ranking of pages (relevance is binary)."""
    top = ranked[:K]
    gains = [1.0 / math.log2(rank + 2) for rank, page in enumerate(top) if page in relevant]
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), K)))
    found = [rank for rank, page in enumerate(top) if page in relevant]
    return (
        sum(gains) / ideal,
        len(found) / len(relevant),
        1.0 / (found[0] + 1) if found else 0.0,
    )


def report(name: str, hits: list[list[str]], questions: list[Question]) -> str:
    """The scores of rankings of pages made of each question's hits (the page of each chunk
    found, best first), and how many pages the first 10 hits span."""
    rows = [scores(ranked_pages(h), q.relevant) for h, q in zip(hits, questions, strict=True)]
    ndcg, recall, mrr = (sum(column) / len(rows) for column in zip(*rows, strict=True))
    hit = sum(1 for row in rows if row[1] > 0) / len(rows)
    distinct = sum(len(set(h[:K])) for h in hits) / len(hits)
    return (
        f"    {name:26} nDCG@10 {ndcg:.3f}  recall@10 {recall:.3f}  MRR@10 {mrr:.3f}"
        f"  ≥1 found {hit:4.0%}  pages in 10 hits {distinct:4.1f}"
    )


class Baselines:
    """BM25 and the model alone, over the chunks the system stored for the corpus."""

    def __init__(self, user: uuid.UUID, model: LocalEmbedder) -> None:
        rows = asyncio.run(self._chunks(user))
        self.pages = [row[0] for row in rows]
        texts = [embedded_text(row[1], row[2]) for row in rows]
        self.vectors = np.array([row[3] for row in rows], dtype=np.float32)
        self.stemmer = Stemmer.Stemmer("english")
        self.bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.bm25.index(tokens, show_progress=False)
        self.model = model

    @staticmethod
    async def _chunks(user: uuid.UUID) -> list[tuple[str, str | None, str, list[float]]]:
        engine = create_engine(DATABASE_URL, pool_size=1)
        try:
            async with engine.connect() as connection:
                found = await connection.execute(
                    text(
                        "SELECT d.filename, c.section, c.text, CAST(e.embedding AS text)"
                        " FROM ingestion.chunks c JOIN ingestion.documents d"
                        " ON d.id = c.document_id JOIN ingestion.chunk_embeddings e"
                        " ON e.chunk_id = c.id WHERE c.user_id = :user ORDER BY c.id"
                    ),
                    {"user": user},
                )
                return [
                    (name, section, body, [float(x) for x in vector.strip("[]").split(",")])
                    for name, section, body, vector in found
                ]
        finally:
            await engine.dispose()

    def bm25_pages(self, question: str) -> list[str]:
        tokens = bm25s.tokenize(
            [question], stopwords="en", stemmer=self.stemmer, show_progress=False
        )
        found, _ = self.bm25.retrieve(tokens, k=DEPTH, show_progress=False)
        return [self.pages[int(i)] for i in found[0]]

    def model_pages(self, question: str) -> list[str]:
        [vector] = self.model.embed([question])
        similarity = self.vectors @ np.array(vector, dtype=np.float32)
        best = np.argsort(-similarity)[:DEPTH]
        return [self.pages[int(i)] for i in best]


def upload_all(http: httpx.Client, headers: dict[str, str], files: list[Path]) -> float:
    """Uploads every page and waits until each is ingested; the seconds it took."""
    started = time.perf_counter()
    ids: list[str] = []
    for start in range(0, len(files), 10):
        batch = [
            ("files", (f.name, f.read_bytes(), "text/html")) for f in files[start : start + 10]
        ]
        sent = http.post(
            "/v1/documents", files=batch, data={"collection": COLLECTION}, headers=headers
        )
        sent.raise_for_status()
        ids += [d["document_id"] for d in sent.json()["documents"]]
    for document_id in ids:
        while True:
            found = http.get(f"/v1/documents/{document_id}", headers=headers)
            found.raise_for_status()
            if found.json()["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.5)
    return time.perf_counter() - started


def system_pages(
    http: httpx.Client, headers: dict[str, str], question: str, mode: str
) -> list[str]:
    params: dict[str, str | int] = {
        "q": question,
        "mode": mode,
        "top_k": DEPTH,
        "collections": COLLECTION,
    }
    found = http.get("/v1/search", params=params, headers=headers)
    found.raise_for_status()
    return [hit["filename"] for hit in found.json()["hits"]]


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument(
        "--reader",
        default="retrieval-eval",
        help="whose library: a new name ingests the pages again (after a parser change)",
    )
    reader = arguments.parse_args().reader
    files = pages()
    # One reader for every run: its pages, already ingested, are uploaded again as duplicates.
    with search_stack(reader) as stack:
        took = upload_all(stack.http, stack.headers, files)
        baselines = Baselines(stack.user, LocalEmbedder(batch_size=64))
        print(
            f"Retrieval over {len(files)} pages of Python's library reference"
            f" ({len(baselines.pages):,} chunks, ingested in {took:.0f} s)"
        )
        for set_name, questions in SETS.items():
            print(f"  {set_name} ({len(questions)} questions)")
            asked = [q.text for q in questions]
            print(report("BM25 (bm25s)", [baselines.bm25_pages(q) for q in asked], questions))
            print(report("model alone", [baselines.model_pages(q) for q in asked], questions))
            for mode in ("keyword", "vector", "hybrid"):
                found = [system_pages(stack.http, stack.headers, q, mode) for q in asked]
                print(report(f"system, {mode}", found, questions))


if __name__ == "__main__":
    main()
