"""The notion_sync service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app
from notion_sync_service.handlers import router
from notion_sync_service.models import messaging
from notion_sync_service.queries import ConnectionQueries
from notion_sync_service.settings import NotionSyncSettings

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: NotionSyncSettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime: ServiceRuntime = app.state.runtime
    keys = settings.credentials_keys
    cipher = CredentialCipher(keys.get_secret_value()) if keys else None
    runtime.responder.subscribe(
        runtime.broker,
        "notion.connection.query",
        ConnectionQueries(runtime.sessions, cipher, settings),
    )
    return app
