"""The analytics service: its definition and app factory."""

from pathlib import Path

from fastapi import FastAPI

from analytics_service.handlers import router
from analytics_service.models import messaging
from analytics_service.queries import BudgetLimitQueries, UsageReports
from analytics_service.settings import AnalyticsSettings
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.runtime import ServiceRuntime
from assistant_runtime.service_app import build_app

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: AnalyticsSettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime: ServiceRuntime = app.state.runtime
    runtime.provide(
        UsageReports(runtime.sessions), BudgetLimitQueries(runtime.sessions, runtime.outbox)
    )
    return app
