"""Ingestion: chunks/s from upload to searchable, against the embedding model alone.

`--documents` generated Markdown documents (a heading, three paragraphs of varied wording; two
or three chunks each) are put in the blob store and announced with `document.uploaded`, as the
gateway (or another system) does; one ingestion process parses, chunks, embeds (the local
all-MiniLM-L6-v2) and indexes them. Its rate is the chunks over the time from the first
announcement to the last document committed — searchable. Baseline of the same run: the model
alone (sentence-transformers in this process, the same batch size) embedding the very chunks the
pipeline made, as one copy on all cores and as two single-threaded copies side by side (as the
service runs it); the faster is the baseline. The pipeline is embedding-bound when the two are
close.

    python -m bench.ingestion_throughput [--documents 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import torch
from sqlalchemy import text

from assistant_blobs import LocalBlobStore
from assistant_db import create_engine
from assistant_messaging.publishing.direct import publish_directly
from assistant_schemas import new_event
from assistant_schemas.documents import (
    BlobReference,
    DocumentUploadedPayload,
    DocumentUploadedV1,
    collection_id,
)
from assistant_stack.cli import environment
from bench.harness import BOOTSTRAP, DATABASE_URL, PROFILE, free_port, serve_until_ready
from ingestion_service.embedding import LocalEmbedder

TOPICS = ["kafka", "postgres", "notion", "billing", "search", "backups", "alerts", "onboarding"]
WORDS = (
    "system", "data", "user", "request", "event", "service", "page", "token", "index", "query",
    "cost", "budget", "report", "team", "deploy", "release", "incident", "metric", "latency",
    "storage", "cluster", "replica", "schema", "policy", "account",
)  # fmt: skip


def document(index: int, rng: random.Random) -> str:
    topic = TOPICS[index % len(TOPICS)]
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 110))).capitalize() + "."
        for _ in range(3)
    ]
    return f"# {topic.title()} note {index}\n\n" + "\n\n".join(paragraphs) + "\n"


async def announce(blob_dir: Path, user: uuid.UUID, documents: list[str]) -> list[uuid.UUID]:
    store = LocalBlobStore(blob_dir)
    events = []
    for index, body in enumerate(documents):
        data = body.encode()
        uri, digest = store.put(user, data)
        events.append(
            new_event(
                DocumentUploadedV1,
                DocumentUploadedPayload(
                    document_id=uuid.uuid4(),
                    request_id=uuid.uuid4(),
                    collection_id=collection_id(user, "bench"),
                    filename=f"note{index}.md",
                    blob=BlobReference(
                        uri=uri, sha256=digest, size_bytes=len(data), content_type="text/plain"
                    ),
                    metadata={"collection": "bench"},
                ),
                correlation_id="bench",
                producer="bench",
                user_id=user,
            )
        )
    await publish_directly(BOOTSTRAP, events)
    return [event.payload.document_id for event in events]


async def wait_until_ingested(user: uuid.UUID, count: int) -> None:
    engine = create_engine(DATABASE_URL, pool_size=1)
    query = text(
        "SELECT count(*) FROM ingestion.documents WHERE user_id = :u AND status <> 'processing'"
    )
    try:
        while True:
            async with engine.connect() as connection:
                if (await connection.scalar(query, {"u": user}) or 0) >= count:
                    return
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


async def chunks_of(user: uuid.UUID) -> tuple[list[str], int]:
    """The texts the pipeline embedded (heading context included), and documents failed."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT coalesce(c.section || E'\\n', '') || c.text FROM ingestion.chunks c"
                    " WHERE c.user_id = :u ORDER BY c.document_id, c.ordinal"
                ),
                {"u": user},
            )
            texts = [row[0] for row in rows]
            failed = await connection.scalar(
                text(
                    "SELECT count(*) FROM ingestion.documents WHERE user_id = :u"
                    " AND status = 'failed'"
                ),
                {"u": user},
            )
        return texts, int(failed or 0)
    finally:
        await engine.dispose()


async def forget(user: uuid.UUID) -> None:
    """The bench user's documents and chunks go, so a stack shared with the tests is left as
    it was (its blobs are in a temporary directory)."""
    engine = create_engine(DATABASE_URL, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM ingestion.documents WHERE user_id = :u"), {"u": user}
            )
    finally:
        await engine.dispose()


def model_alone_rate(texts: list[str], workers: int) -> float:
    """Chunks/s of `workers` copies of the model embedding `texts` in batches of 64, each copy
    in its own thread taking the next batch."""
    models = [LocalEmbedder(batch_size=64) for _ in range(workers)]
    for model in models:
        model.embed(texts[:64])  # warm up, as the service's first batches did
    batches = [texts[start : start + 64] for start in range(0, len(texts), 64)]
    taking = threading.Lock()

    def work(model: LocalEmbedder) -> None:
        while True:
            with taking:
                if not batches:
                    return
                batch = batches.pop(0)
            model.embed(batch)

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(model,)) for model in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(texts) / (time.perf_counter() - began)


def main(count: int) -> None:
    rng = random.Random(7)
    documents = [document(i, rng) for i in range(count)]
    user = uuid.uuid4()
    blob_dir = Path(tempfile.mkdtemp(prefix="bench-blobs-"))
    port = free_port()
    env = {
        **os.environ,
        **environment(PROFILE),
        "BLOB_DIR": str(blob_dir),
        "INGESTION_HTTP_PORT": str(port),
        "INGESTION_LOG_LEVEL": "WARNING",
    }
    print(f"Ingestion: {count:,} Markdown documents, one ingestion process, local MiniLM")
    ingestion = serve_until_ready(
        [sys.executable, "-m", "ingestion_service", "serve"],
        f"http://127.0.0.1:{port}/readyz",
        env=env,
        timeout=180,
    )
    try:
        started = time.perf_counter()
        asyncio.run(announce(blob_dir, user, documents))
        asyncio.run(wait_until_ingested(user, count))
        elapsed = time.perf_counter() - started
    finally:
        ingestion.terminate()
        ingestion.wait(60)
    texts, failed = asyncio.run(chunks_of(user))
    asyncio.run(forget(user))
    system_rate = len(texts) / elapsed
    one_copy = model_alone_rate(texts, workers=1)  # torch's default: a thread per core
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
    two_copies = model_alone_rate(texts, workers=2)  # as the service runs it
    model_rate = max(one_copy, two_copies)
    print(f"    (a) model alone, one copy, batches of 64     {one_copy:7.1f} chunks/s")
    print(f"    (a) model alone, two copies, batches of 64   {two_copies:7.1f} chunks/s")
    print(
        f"    (b) upload → searchable (pipeline)           {system_rate:7.1f} chunks/s  "
        f"({system_rate / model_rate:.1%} of the faster model alone: the baseline)"
    )
    print(
        f"    {len(texts):,} chunks from {count:,} documents in {elapsed:.1f} s; "
        f"documents failed: {failed}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    options = parser.parse_args()
    main(options.documents)
