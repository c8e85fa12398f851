"""The notion_sync service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app
from notion_sync_service.handlers import router
from notion_sync_service.models import messaging
from notion_sync_service.pacing import Pacer
from notion_sync_service.queries import ConnectionQueries
from notion_sync_service.saving import PageSaver
from notion_sync_service.settings import NotionSyncSettings
from notion_sync_service.unit_of_work import PostgresSaves

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: NotionSyncSettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime: ServiceRuntime = app.state.runtime
    keys = settings.credentials_keys
    cipher = CredentialCipher(keys.get_secret_value()) if keys else None
    pacer = Pacer(settings.rate_per_s)  # one per process: every call of a token shares it
    saves = PostgresSaves(runtime.engine, runtime.outbox)
    saver = PageSaver(settings=settings, units=saves, cipher=cipher, pacer=pacer)
    runtime.provide(saver, ConnectionQueries(runtime.sessions, cipher, settings, pacer))
    return app
