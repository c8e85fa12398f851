"""The generation service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_messaging.request_reply.requester import Requester
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app
from generation_service.answering import Answerer
from generation_service.catalog import CatalogCache
from generation_service.catalog_announcer import CatalogAnnouncer
from generation_service.circuit_breaker import CircuitBreaker
from generation_service.handlers import router
from generation_service.job_store import JobStore
from generation_service.models import messaging
from generation_service.providers.clients import ProviderClients
from generation_service.queries import CatalogQueries, ConversationQueries, HistoryQueries
from generation_service.retrieval import Retriever
from generation_service.settings import GenerationSettings
from generation_service.worker import GenerationWorker

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: GenerationSettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime: ServiceRuntime = app.state.runtime
    catalog = CatalogCache(runtime.sessions)
    answerer = Answerer(
        settings,
        ProviderClients(settings),
        CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s),
    )
    requester = Requester(
        bootstrap_servers=settings.kafka_bootstrap_servers, producer=runtime.producer
    )
    worker = GenerationWorker(
        settings=settings,
        sessions=runtime.sessions,
        jobs=JobStore(runtime.driver_pool.pool),
        outbox=runtime.outbox,
        responder=runtime.responder,
        answerer=answerer,
        catalog=catalog,
        retriever=Retriever(requester, settings.retrieval_timeout_s),
        worker_id=runtime.instance_id,
    )
    runtime.provide(
        worker,
        ConversationQueries(runtime.sessions),
        HistoryQueries(runtime.sessions),
        CatalogQueries(runtime.sessions, catalog, runtime.outbox),
    )
    runtime.components += [CatalogAnnouncer(runtime.sessions, runtime.outbox), requester, worker]
    return app
