"""The ingestion service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_blobs import blob_store
from assistant_messaging.jobs import JobConsumer, JobSettings
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.documents import DocumentDeleteRequestedV1, DocumentUploadedV1
from assistant_schemas.queries import DocumentsQueryV1, SearchQueryV1
from assistant_schemas.topics import topic_names
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
    runtime.responder.serve(SearchQueryV1, SearchQueries(runtime.engine, queries, index))
    runtime.responder.serve(DocumentsQueryV1, DocumentQueries(runtime.engine))
    ingester = DocumentIngester(
        settings=settings,
        engine=runtime.engine,
        outbox=runtime.outbox,
        blobs=blob_store(settings.blobs),
        embeddings=embeddings,
        index=index,
    )
    runtime.components.append(embeddings)
    runtime.components.append(index)
    runtime.components.append(
        JobConsumer(
            service=definition.name,
            instance_id=runtime.instance_id,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topics=topic_names(DocumentUploadedV1, DocumentDeleteRequestedV1, AccountDeletedV1),
            handler=ingester.handle,
            abandon=ingester.abandon,
            failures=runtime.consumer.failures,
            settings=JobSettings(
                max_in_flight=settings.max_in_flight, shutdown_grace_s=settings.shutdown_grace_s
            ),
        )
    )
    return app
