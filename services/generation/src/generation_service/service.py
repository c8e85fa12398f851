"""The generation service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.service_app import build_app
from assistant_runtime.settings import ServiceSettings
from generation_service.handlers import router
from generation_service.models import messaging, metadata

definition = ServiceDefinition(
    name="generation",
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).parent / "migrations",
    router=router,
)


def create_app(settings: ServiceSettings) -> FastAPI:
    return build_app(definition, settings)
