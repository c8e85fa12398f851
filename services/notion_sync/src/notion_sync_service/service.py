"""The notion_sync service: its definition and app factory."""

from pathlib import Path

from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.service_app import app_factory
from notion_sync_service.handlers import router
from notion_sync_service.models import messaging

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")
create_app = app_factory(definition)
