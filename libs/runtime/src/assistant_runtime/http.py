"""The HTTP face every service has: /healthz, /readyz, /metrics, and a request id per call."""

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from assistant_runtime.runtime import ServiceRuntime

REQUEST_ID_HEADER = "X-Request-ID"
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes would drown the log

log = structlog.get_logger(__name__)


def create_service_app(runtime: ServiceRuntime, **fastapi_options: object) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(lifespan=lifespan, **fastapi_options)  # type: ignore[arg-type]
    app.state.runtime = runtime

    @app.middleware("http")
    async def bind_request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get(REQUEST_ID_HEADER) or str(uuid.uuid4())
        request.state.request_id = request_id
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=request_id):
            response = await call_next(request)
            if request.url.path not in QUIET_PATHS:
                # The path only: query strings and bodies may carry secrets or prompts.
                log.info(
                    "request",
                    method=request.method,
                    path=request.url.path,
                    status=response.status_code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.definition.name}

    @app.get(
        "/readyz", tags=["operations"], summary="Kafka and PostgreSQL reachable, schema at head"
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
            },
            "detail": state.detail,
        }
        return JSONResponse(body, status_code=200 if state.ready else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return app
