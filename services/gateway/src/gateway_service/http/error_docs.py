"""The OpenAPI document says what the gateway answers, errors included.

FastAPI documents only its own 422 (in a shape the gateway never sends). Every error the
gateway answers is `application/problem+json` (OpenAI's error object on the OpenAI-compatible
paths), and most of them follow from what an operation is: any request can be refused for NUL
text (422) or a database away (503); one with credentials for a bad one (401) or a missing
scope (403); one with a body for its size (413); one naming a resource in its path for
someone else's or nobody's (404); one with parameters for invalid ones (422; 400 on the OpenAI
paths, as OpenAI answers). What only some operations answer (402, 409, 415, 429, ...) each
route declares with `responses=errors(...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from gateway_service.http.problems import OPENAI_PATHS, PROBLEM_JSON

TITLES = {
    400: "Invalid request",
    401: "Missing or invalid credentials",
    402: "Over the monthly budget",
    403: "Not allowed: an administrator only, or a key without the scope",
    404: "Not found (or not yours)",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Invalid request: the problem's `errors` name each field",
    429: "Too many requests: come back after `Retry-After`",
    502: "The provider failed or refused the server's key",
    503: "A dependency is unavailable: retry after `Retry-After`",
    504: "The provider did not answer in time",
}


# Headers of the answers that say when to come back.
def _integer_header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer"}}


RETRY_AFTER = _integer_header("Seconds to wait before retrying.")
RATE_LIMIT = {
    "RateLimit-Limit": _integer_header("Requests allowed per window."),
    "RateLimit-Remaining": _integer_header("Requests left in this window."),
    "RateLimit-Reset": _integer_header("Seconds until the window resets."),
}


class ProblemDocument(BaseModel):
    """RFC 7807: a stable `type` per kind of error, what happened in `detail`."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(examples=["https://notion-assistant.dev/problems/not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """OpenAI's error object, so its SDKs raise their matching exceptions."""

    error: OpenAIErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that also answers these statuses."""
    return {status: {"description": TITLES[status]} for status in statuses}


def idempotent(extra: dict[str, object] | None = None) -> dict[str, object]:
    """The `openapi_extra=` of a route that takes an `Idempotency-Key`."""
    key = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": "Repeat a request safely: the same key and body within 24 hours get the "
        "first answer again (`Idempotent-Replayed: true`); another body with the key, 409.",
    }
    return {**(extra or {}), "parameters": [key]}


def event_stream(description: str) -> dict[str, Any]:
    """A 200 answer's `text/event-stream` content (`stream: true`)."""
    return {"text/event-stream": {"schema": {"type": "string"}, "example": description}}


def install_error_docs(app: FastAPI) -> None:
    """Replaces `app.openapi` with FastAPI's document, completed with the error answers."""
    fastapi_document = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_errors(fastapi_document())
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def _with_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ProblemDocument, OpenAIErrorBody, OpenAIError):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definition.pop("$defs", {}))
        components[definition.get("title", model.__name__)] = definition
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            _describe(path, operation)
    return schema


def _describe(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    statuses = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    statuses |= _implied(path, operation)
    openai = path.startswith(OPENAI_PATHS)
    if openai and 422 in statuses:
        statuses = (statuses - {422}) | {400}  # OpenAI answers an invalid request with 400
    for code in [code for code in responses if code.isdigit() and int(code) >= 400]:
        del responses[code]
    for status in sorted(statuses):
        responses[str(status)] = _error_response(status, openai)


def _implied(path: str, operation: dict[str, Any]) -> set[int]:
    if not path.startswith("/v1/"):
        return {503} if path == "/readyz" else set()
    statuses = {422, 503}  # NUL text anywhere in a request; the database away
    if operation.get("security"):
        statuses |= {401, 403}
    if "requestBody" in operation:
        statuses.add(413)
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        statuses.add(404)
    return statuses


def _error_response(status: int, openai: bool) -> dict[str, Any]:
    name, media = ("OpenAIError", "application/json") if openai else ("Problem", PROBLEM_JSON)
    response: dict[str, Any] = {
        "description": TITLES[status],
        "content": {media: {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": RETRY_AFTER}
    if status == 429:
        response["headers"] |= RATE_LIMIT
    return response
