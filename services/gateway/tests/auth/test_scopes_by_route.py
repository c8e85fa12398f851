"""Every route of the published API declares the scope an API key needs for it, and a key with
any other single scope is refused with `403 insufficient-scope` naming it. The table below is
checked against the OpenAPI document: a new route without a declared scope fails this test."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from assistant_messaging.request_reply.requester import ReplyTimeout
from assistant_schemas import Envelope
from gateway_test_support import Register, bearer

SCOPES = ("account", "generate", "documents", "search", "usage", "notion")
PUBLIC = "public"  # no credential at all
ANY = "any credential"  # a session or any key: the caller's own access

DECLARED: dict[str, str] = {
    "GET /healthz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /readyz": PUBLIC,
    "POST /v1/auth/login": PUBLIC,
    "POST /v1/auth/logout": PUBLIC,
    "POST /v1/auth/refresh": PUBLIC,
    "POST /v1/auth/register": PUBLIC,
    "GET /v1/admin/budgets/tiers/{plan_tier}": "account",
    "PUT /v1/admin/budgets/tiers/{plan_tier}": "account",
    "DELETE /v1/admin/budgets/users/{user_id}": "account",
    "GET /v1/admin/budgets/users/{user_id}": "account",
    "PUT /v1/admin/budgets/users/{user_id}": "account",
    "GET /v1/admin/catalog": "account",
    "GET /v1/admin/dead-letters/{service}": "account",
    "POST /v1/admin/dead-letters/{service}/redrive": "account",
    "PUT /v1/admin/catalog/models/{provider}/{model}": "account",
    "PUT /v1/admin/catalog/providers/{name}": "account",
    "GET /v1/admin/usage": "account",
    "GET /v1/admin/users": "account",
    "PATCH /v1/admin/users/{user_id}": "account",
    "GET /v1/api-keys": "account",
    "POST /v1/api-keys": "account",
    "DELETE /v1/api-keys/{key_id}": "account",
    "POST /v1/chat/completions": "generate",
    "GET /v1/conversations": "generate",
    "DELETE /v1/conversations/{conversation_id}": "generate",
    "GET /v1/conversations/{conversation_id}": "generate",
    "PATCH /v1/conversations/{conversation_id}": "generate",
    "GET /v1/conversations/{conversation_id}/export": "generate",
    "GET /v1/history": "generate",
    "GET /v1/credentials": "account",
    "DELETE /v1/credentials/{provider}": "account",
    "PUT /v1/credentials/{provider}": "account",
    "GET /v1/documents": "documents",
    "POST /v1/documents": "documents",
    "DELETE /v1/documents/{document_id}": "documents",
    "GET /v1/documents/{document_id}": "documents",
    "PATCH /v1/documents/{document_id}": "documents",
    "POST /v1/documents/{document_id}/retry": "documents",
    "POST /v1/generations": "generate",
    "POST /v1/generations/{request_id}/notion": "notion",
    "DELETE /v1/me": "account",
    "GET /v1/me": "account",
    "PATCH /v1/me": "account",
    "POST /v1/me/deactivate": "account",
    "POST /v1/me/password": "account",
    "GET /v1/models": "generate",
    "DELETE /v1/notion/connection": "notion",
    "GET /v1/notion/connection": "notion",
    "GET /v1/requests": ANY,
    "GET /v1/requests/{request_id}": ANY,
    "GET /v1/search": "search",
    "GET /v1/usage": "usage",
    "GET /v1/usage/summary": "usage",
}

PATH_VALUES = {
    "plan_tier": "solo",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "name": "openai",
}
ID = "0190a0a0-0000-7000-8000-000000000000"
BODIES: dict[str, Any] = {
    "POST /v1/generations": {"prompt": "hi"},
    "POST /v1/chat/completions": {"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
}


def published_routes(app: FastAPI) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def test_every_published_route_declares_its_scope(app: FastAPI) -> None:
    routes = published_routes(app)
    undeclared = sorted(set(routes) - DECLARED.keys())
    assert not undeclared, f"declare the scope of each new route: {undeclared}"
    assert not sorted(DECLARED.keys() - set(routes)), "routes declared here no longer exist"


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    while "{" in path:
        start = path.index("{")
        path = path[:start] + ID + path[path.index("}") + 1 :]
    return path


class Unanswered:
    """The worker services are not running here: a query is unanswered at once, rather than
    after the gateway's ten seconds (what is tested is who gets past the scope check)."""

    async def ask(self, query: Envelope[Any], *, timeout: float) -> Envelope[Any]:
        raise ReplyTimeout(query.type, 0)


@pytest.mark.parametrize("route", sorted(r for r, s in DECLARED.items() if s in SCOPES))
async def test_a_key_reaches_a_route_only_with_its_scope(
    app: FastAPI, client: httpx.AsyncClient, register: Register, route: str
) -> None:
    app.state.requester = Unanswered()
    ada = await register("ada")
    keys = {}
    for scope in SCOPES:
        created = await client.post(
            "/v1/api-keys",
            json={"name": scope, "scopes": [scope]},
            headers=bearer(ada["access_token"]),
        )
        keys[scope] = created.json()["key"]
    method, path = route.split(" ", 1)
    declared = DECLARED[route]
    # The declared scope last: the route may deactivate the account or revoke the key.
    for scope in sorted(SCOPES, key=lambda s: s == declared):
        response = await client.request(
            method, concrete(path), json=BODIES.get(route, {}), headers=bearer(keys[scope])
        )
        if scope == declared:
            assert refused_scope(response) is None, f"{route} refused its own scope {scope}"
        else:
            assert refused_scope(response) == declared, (
                f"{route} answered {response.status_code} to a {scope} key"
            )


def refused_scope(response: httpx.Response) -> str | None:
    """The scope a 403 says is missing (in a problem, or an OpenAI-shaped error)."""
    if response.status_code != 403:
        return None
    body = response.json()
    if "error" in body:  # the OpenAI-compatible paths
        message = body["error"]["message"]
        return message.split("`")[1] if body["error"]["code"] == "insufficient-scope" else None
    return body.get("required_scope") if body["type"].endswith("/insufficient-scope") else None
