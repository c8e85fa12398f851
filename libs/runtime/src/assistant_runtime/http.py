"""The HTTP face every service has: /healthz, /readyz, /metrics, and a request id per call."""

import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi_swagger import patch_fastapi
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant_runtime.runtime import ServiceRuntime

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.lower().encode()
REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Set when a service runs several worker processes: where each keeps its metric values.
SHARED_METRICS = "PROMETHEUS_MULTIPROC_DIR"
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes would drown the log

# Where a request's scope keeps the headers its answer must carry (`response_headers`).
RESPONSE_HEADERS = "assistant.response_headers"

log = structlog.get_logger(__name__)


def response_headers(request: Request) -> dict[str, str]:
    """Headers the request's answer carries, whatever makes it: set by a dependency, they
    reach an endpoint's own `Response` too, which FastAPI's `response: Response` parameter
    does not (its headers are merged only into responses FastAPI builds itself)."""
    found: dict[str, str] = request.scope["state"].setdefault(RESPONSE_HEADERS, {})
    return found


class RequestContextMiddleware:
    """Echoes or assigns `X-Request-ID`, binds it as the correlation id of everything logged or
    published while serving the request, adds the `response_headers` set while serving it, and
    logs one line per request. Pure ASGI: Starlette's `BaseHTTPMiddleware` costs more than the
    whole of a cheap request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope["headers"]).get(REQUEST_ID_HEADER_BYTES, b"")
        # A client's id is kept only if it is a sane token: it becomes the correlation id of
        # every event, logged and capped at 200 characters by the contracts.
        request_id = (offered.decode() if REQUEST_ID.fullmatch(offered) else "") or str(
            uuid.uuid4()
        )
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER_BYTES, request_id.encode()),
                    *(
                        (name.lower().encode(), value.encode())
                        for name, value in state.get(RESPONSE_HEADERS, {}).items()
                    ),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["path"] not in QUIET_PATHS:
                    # The path only: query strings and bodies may carry secrets or prompts.
                    log.info(
                        "request",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )


def create_service_app(runtime: ServiceRuntime, **fastapi_options: object) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        lifespan=lifespan,
        # The services export Prometheus metrics and JSON logs, not OpenTelemetry: left on,
        # FastAPI would look for an OpenTelemetry provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # FastAPI's own pages load Swagger UI from a CDN, blank offline: served from here.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        **fastapi_options,  # type: ignore[arg-type]
    )
    app.state.runtime = runtime
    patch_fastapi(app, docs_url="/docs", redirect_from_root_to_docs=False)

    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.definition.name}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Kafka and PostgreSQL reachable, schema at head, no consumer stuck",
    )
    async def readyz() -> JSONResponse:
        state = await runtime.readiness()
        body = {
            "ready": state.ready,
            "service": runtime.definition.name,
            "checks": {
                "database": state.database,
                "kafka": state.kafka,
                "migrations": state.migrations,
                "consumers": state.consuming,
            },
            "detail": state.detail,
        }
        return JSONResponse(body, status_code=200 if state.ready else 503)

    registry = metrics_registry()

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def metrics_registry() -> CollectorRegistry:
    """What /metrics shows: this process's metrics, or with several workers all of theirs
    added up (per metric, as its `multiprocess_mode` says for gauges)."""
    if SHARED_METRICS not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
