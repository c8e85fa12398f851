"""The analytics service: its definition and app factory."""

from pathlib import Path

from analytics_service.handlers import router
from analytics_service.models import messaging
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.service_app import app_factory

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")
create_app = app_factory(definition)
