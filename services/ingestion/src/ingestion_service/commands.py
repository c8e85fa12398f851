"""Operator commands for the embedding indexes (one per model).

    python -m ingestion_service indexes                 # each index, its state and coverage
    python -m ingestion_service reindex [--dry-run]     # build the configured model's index
    python -m ingestion_service drop-index <model>      # retire an index and its vectors

A change of model, with search serving throughout: run `reindex` with the new model's
configuration (INGESTION_EMBEDDING_*) while the running services keep ingesting and serving
with the old one; it replays every stored chunk through the new model, picks up what was
ingested meanwhile, and marks the index ready. Then restart the services with the new
configuration (each keeps its own model's index up with what the others write), and once no
process uses the old model, `drop-index` it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db import create_engine
from assistant_runtime.cli import Command
from ingestion_service import indexes, reindexing
from ingestion_service.embedding import embedder_for
from ingestion_service.settings import IngestionSettings


def _list(settings: IngestionSettings, _args: argparse.Namespace) -> None:
    async def listed() -> list[indexes.Coverage]:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return await indexes.coverage(connection)
        finally:
            await engine.dispose()

    for found in asyncio.run(listed()):
        i, held = found.index, f"{found.chunks}/{found.total} chunks"
        print(f"{i.model}\t{i.dimensions} dimensions\t{i.state}\t{held}")


def _reindex_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="say what would be embedded")


def _reindex(settings: IngestionSettings, args: argparse.Namespace) -> None:
    embedder = embedder_for(settings)

    async def embed(texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(embedder.embed, texts)

    async def pending(engine: AsyncEngine) -> tuple[int, int]:
        """(chunks the model's index lacks, chunks stored)."""
        async with engine.connect() as connection:
            found = await indexes.coverage(connection)
            total = await indexes.chunk_count(connection)
        held = next((c.chunks for c in found if c.index.model == embedder.name), 0)
        return total - held, total

    async def reindexed() -> str:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            missing, total = await pending(engine)
            if args.dry_run:
                return (
                    f"dry run, nothing done: {embedder.name} would embed {missing} of {total}"
                    " chunks"
                )
            print(f"{embedder.name}: {missing} of {total} chunks to embed", file=sys.stderr)
            index = await reindexing.made(engine, embedder.name, embedder.dimensions())
            index, filled = await reindexing.filled_and_ready(
                engine, index, embed, settings.embedding_batch_size,
                lambda done: print(f"{done}/{missing} chunks embedded", file=sys.stderr),
            )  # fmt: skip
        finally:
            await engine.dispose()
        return f"{index.model}: ready, {index.dimensions} dimensions, {filled} chunks embedded now"

    try:
        print(asyncio.run(reindexed()))
    except reindexing.IndexMismatch as mismatch:
        raise SystemExit(f"reindex: {mismatch}") from None


def _drop_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="the index's model, as `indexes` lists it")


def _drop(settings: IngestionSettings, args: argparse.Namespace) -> None:
    async def dropped() -> bool:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            async with engine.begin() as connection:
                return await indexes.drop(connection, args.model)
        finally:
            await engine.dispose()

    if not asyncio.run(dropped()):
        raise SystemExit(f"drop-index: there is no index of {args.model}")
    print(f"{args.model}: dropped")


COMMANDS = (
    Command("indexes", "list the embedding indexes and how many chunks each holds",
            lambda _: None, _list),
    Command("reindex", "build the configured model's embedding index from the stored chunks",
            _reindex_arguments, _reindex),
    Command("drop-index", "delete a model's embedding index and its vectors",
            _drop_arguments, _drop),
)  # fmt: skip
