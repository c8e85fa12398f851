"""The notion_sync service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_messaging.jobs import JobConsumer, JobSettings
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app
from assistant_schemas.notion import NotionConnectionQueryV1, NotionPageRequestedV1
from assistant_schemas.topics import topic_names
from notion_sync_service.handlers import router
from notion_sync_service.models import messaging
from notion_sync_service.pacing import Pacer
from notion_sync_service.queries import ConnectionQueries
from notion_sync_service.saving import PageSaver
from notion_sync_service.settings import NotionSyncSettings

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: NotionSyncSettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime: ServiceRuntime = app.state.runtime
    keys = settings.credentials_keys
    cipher = CredentialCipher(keys.get_secret_value()) if keys else None
    pacer = Pacer(settings.rate_per_s)  # one per process: every call of a token shares it
    runtime.responder.serve(
        NotionConnectionQueryV1,
        ConnectionQueries(runtime.sessions, cipher, settings, pacer),
    )
    saver = PageSaver(
        settings=settings, engine=runtime.engine, outbox=runtime.outbox, cipher=cipher, pacer=pacer
    )
    runtime.components.append(
        JobConsumer(
            service=definition.name,
            instance_id=runtime.instance_id,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topics=topic_names(NotionPageRequestedV1),
            handler=saver.handle,
            abandon=saver.abandon,
            failures=runtime.consumer.failures,
            settings=JobSettings(
                max_in_flight=settings.max_in_flight, shutdown_grace_s=settings.shutdown_grace_s
            ),
        )
    )
    return app
