"""RFC 7807 `application/problem+json` for every error, each with a stable `type`."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://notion-assistant.dev/problems/"


class Problem(Exception):
    """An error a client can act on. `kind` becomes the stable `type` URI."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}

    def document(self) -> dict[str, Any]:
        return problem_document(self.status, self.kind, self.title, self.detail, **self.extra)


def invalid(field: str, rule: str, message: str, status: int = 422) -> Problem:
    """A value the request may not carry: 422 everywhere, naming the field (a body's, a query
    parameter's, a cursor); the OpenAI paths answer it as OpenAI does, 400."""
    return Problem(
        status,
        "validation-error",
        "Invalid request",
        f"{field}: {message}",
        errors=[{"field": field, "rule": rule, "message": message}],
    )


def problem_document(
    status: int, kind: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """The RFC 7807 body (also sent as the data of a stream's `error` event)."""
    return {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail, **extra}


# The OpenAI-compatible endpoints answer errors in OpenAI's shape, so its SDKs raise the
# matching exception (BadRequestError, AuthenticationError, RateLimitError, ...).
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")
OPENAI_ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def openai_error(status: int, kind: str, detail: str) -> JSONResponse:
    error_type = OPENAI_ERROR_TYPES.get(
        status, "invalid_request_error" if status < 500 else "api_error"
    )
    body = {"error": {"message": detail, "type": error_type, "param": None, "code": kind}}
    return JSONResponse(body, status_code=status)


def problem_response(
    request: Request, status: int, kind: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    if request.url.path.startswith(OPENAI_PATHS):
        # OpenAI answers an invalid request body with 400, never 422.
        return openai_error(400 if status == 422 else status, kind, detail)
    body = problem_document(status, kind, title, detail, instance=request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        response = problem_response(
            request, problem.status, problem.kind, problem.title, problem.detail, **problem.extra
        )
        response.headers.update(problem.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in item["loc"] if p != "body") or "body",
                "rule": item["type"],
                "message": item["msg"],
            }
            for item in error.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(
            request, 422, "validation-error", "Invalid request", summary, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        response = problem_response(
            request, error.status_code, kind, str(error.detail), str(error.detail)
        )
        response.headers.update(error.headers or {})
        return response
