"""The ingestion service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_blobs import blob_store
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app
from ingestion_service.batching import EmbeddingBatcher
from ingestion_service.document_queries import DocumentQueries
from ingestion_service.embedding import embedders_for
from ingestion_service.handlers import router
from ingestion_service.ingesting import DocumentIngester
from ingestion_service.models import messaging
from ingestion_service.query_encoder import QueryEmbeddings, query_embedder_for
from ingestion_service.reindexing import ModelIndex
from ingestion_service.search import SearchQueries
from ingestion_service.settings import IngestionSettings
from ingestion_service.translation import QueryTranslator
from ingestion_service.unit_of_work import PostgresDocuments

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: IngestionSettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime: ServiceRuntime = app.state.runtime
    embedders = embedders_for(settings)  # the local model loads here, once per worker
    embeddings = EmbeddingBatcher(embedders, settings.embedding_batch_size)
    index = ModelIndex(
        runtime.engine, embeddings, settings.index_catch_up_s, settings.embedding_batch_size
    )
    queries = QueryEmbeddings(query_embedder_for(embedders, settings.model_cache_dir))
    ingester = DocumentIngester(
        settings=settings,
        units=PostgresDocuments(runtime.engine, runtime.outbox),
        blobs=blob_store(settings.blobs),
        embeddings=embeddings,
        index=index,
    )
    runtime.provide(
        ingester,
        SearchQueries(
            runtime.engine,
            queries,
            index,
            QueryTranslator.from_dictionaries(settings.dictionary_dir),
        ),
        DocumentQueries(runtime.engine),
    )
    runtime.components += [embeddings, index]
    return app
