"""Builds a service's ASGI app from its definition: the runtime plus the HTTP face."""

from collections.abc import Callable

from fastapi import FastAPI

from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.http import create_service_app
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.settings import ServiceSettings


def build_app(definition: ServiceDefinition, settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(definition, settings)
    return create_service_app(
        runtime,
        title=f"Notion Assistant {definition.name}",
        version="0.1.0",
    )


def app_factory(definition: ServiceDefinition) -> Callable[[ServiceSettings], FastAPI]:
    """The `create_app(settings)` of a service with nothing to add to the HTTP face."""
    return lambda settings: build_app(definition, settings)
