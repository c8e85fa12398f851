"""The gateway service: its definition, and its app with the public HTTP API."""

import secrets
from datetime import timedelta
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant_blobs import blob_store
from assistant_messaging.request_reply.requester import Requester
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.service_app import build_app
from gateway_service.accounts.endpoints import router as accounts_router
from gateway_service.admin.endpoints import router as admin_router
from gateway_service.admission.gate import Admissions
from gateway_service.api_keys.endpoints import router as api_keys_router
from gateway_service.auth.endpoints import router as auth_router
from gateway_service.auth.tokens import AccessTokens
from gateway_service.budgets.endpoints import router as budget_router
from gateway_service.catalog.endpoints import router as catalog_router
from gateway_service.catalog.service import CatalogView
from gateway_service.console import serve_console
from gateway_service.conversations.endpoints import router as conversations_router
from gateway_service.credentials.endpoints import router as credentials_router
from gateway_service.dead_letters.endpoints import router as dead_letters_router
from gateway_service.documents.endpoints import router as documents_router
from gateway_service.generations.endpoints import router as generations_router
from gateway_service.handlers import router
from gateway_service.history.endpoints import router as history_router
from gateway_service.http.body_limit import BodyLimitMiddleware
from gateway_service.http.error_boundary import ErrorBoundaryMiddleware
from gateway_service.http.error_docs import install_error_docs
from gateway_service.http.problems import install_problem_handlers
from gateway_service.http.text_guard import TextGuardMiddleware
from gateway_service.models import messaging
from gateway_service.notion.endpoints import router as notion_router
from gateway_service.notion_saves.endpoints import router as notion_save_router
from gateway_service.openai_compat.endpoints import router as openai_router
from gateway_service.requests.endpoints import router as requests_router
from gateway_service.search.endpoints import router as search_router
from gateway_service.settings import GatewaySettings
from gateway_service.usage.endpoints import router as usage_router

definition = ServiceDefinition(router, messaging, Path(__file__).parent / "migrations")


def create_app(settings: GatewaySettings) -> FastAPI:
    app = build_app(definition, settings)
    runtime = app.state.runtime
    app.state.sessions = runtime.sessions
    # Replies (query answers, streamed chunks) come back to this instance's partition.
    app.state.requester = Requester(
        bootstrap_servers=settings.kafka_bootstrap_servers, producer=runtime.producer
    )
    runtime.components.append(app.state.requester)
    app.state.catalog = CatalogView(runtime.sessions, settings.catalog_ttl_s)
    app.state.blobs = blob_store(settings.blobs)
    app.state.background_tasks = set()
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    if secret is None:
        structlog.get_logger(__name__).warning(
            "GATEWAY_JWT_SECRET is not set: using a random one; tokens end with this process"
        )
        secret = secrets.token_urlsafe(48)
    app.state.access_tokens = AccessTokens(secret, timedelta(minutes=settings.access_token_minutes))
    app.state.refresh_lifetime = timedelta(days=settings.refresh_token_days)
    app.state.admissions = Admissions(runtime.counting_pool.pool, runtime.driver_pool.pool)
    admin_email = settings.bootstrap_admin_email
    app.state.bootstrap_admin = admin_email.lower() if admin_email else None
    keys = settings.credentials_keys
    app.state.cipher = CredentialCipher(keys.get_secret_value()) if keys else None
    app.state.outbound = settings.outbound_policy()
    install_problem_handlers(app)
    install_error_docs(app)
    # Inside out: refuse NUL text, refuse oversized bodies, turn any exception into a problem.
    app.add_middleware(TextGuardMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/documents": settings.max_upload_bytes},
    )
    app.add_middleware(ErrorBoundaryMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
        )
    # The hot paths first: a request is matched against the routes in order, and each route
    # it passes costs a few microseconds (from the end of the list, about 40 µs).
    app.include_router(generations_router)
    app.include_router(openai_router)
    app.include_router(auth_router)
    app.include_router(accounts_router)
    app.include_router(api_keys_router)
    app.include_router(credentials_router)
    app.include_router(admin_router)
    app.include_router(dead_letters_router)
    app.include_router(requests_router)
    app.include_router(conversations_router)
    app.include_router(history_router)
    app.include_router(catalog_router)
    app.include_router(usage_router)
    app.include_router(budget_router)
    app.include_router(notion_router)
    app.include_router(notion_save_router)
    app.include_router(documents_router)
    app.include_router(search_router)
    if not serve_console(app, settings.console_dir):
        structlog.get_logger(__name__).info(
            "no web console to serve: build it with `make web`", looked_in=str(settings.console_dir)
        )
    return app
