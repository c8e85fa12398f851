"""Hostile input is normal input: NUL characters anywhere, values the database refuses, too
many of something. Each is a clear 4xx problem naming what is wrong — never a 5xx, never SQL."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from gateway_test_support import Register

NUL = "\x00"
CONVERSATION = "0190a0a0-0000-7000-8000-000000000000"


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    for leak in ("SELECT", "INSERT", "UPDATE", "Traceback", "asyncpg", "sqlalchemy"):
        assert leak not in detail
    if field is not None:
        assert detail.startswith(f"{field}:"), detail


async def test_a_nul_in_the_login_name_is_a_422_without_an_account(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/auth/login", json={"login": f"a{NUL}", "password": "x"})
    assert_problem(response, 422, "login")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/v1/me", {"full_name": f"Ada{NUL}"}, "full_name"),
        ("POST", "/v1/generations", {"prompt": f"nul{NUL}byte"}, "prompt"),
        (
            "POST",
            "/v1/generations",
            {"messages": [{"role": "user", "content": f"x{NUL}"}]},
            "messages.0.content",
        ),
        (
            "PATCH",
            "/v1/conversations/0190a0a0-0000-7000-8000-000000000000",
            {"title": NUL},
            "title",
        ),
    ],
)
async def test_a_nul_in_a_json_body_is_a_422_naming_the_field(
    client: httpx.AsyncClient,
    register: Register,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    tokens = await register()
    response = await client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert_problem(response, 422, field)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=a%00b", "q"),
        ("q=a&filter=language:e%00n", "filter"),
        ("q=x&collections=a%00", "collections"),
    ],
)
async def test_a_nul_in_a_query_string_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, register: Register, query: str, field: str
) -> None:
    tokens = await register()
    response = await client.get(
        f"/v1/search?{query}", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert_problem(response, 422, field)


async def test_more_collections_than_a_search_takes_is_a_422(
    client: httpx.AsyncClient, register: Register
) -> None:
    tokens = await register()
    names = ",".join(f"c{i}" for i in range(51))
    response = await client.get(
        f"/v1/search?q=x&collections={names}",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert_problem(response, 422, "collections")


def failing_app(app: FastAPI, error: Exception) -> FastAPI:
    @app.get("/v1/boom")
    async def boom() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DBAPIError("SELECT 1", {}, FileNotFoundError(2, "No such file", "/pg/.s.PGSQL")), 503),
        (ConnectionRefusedError(111, "Connection refused"), 503),
        (RuntimeError("SELECT secret FROM users; password=hunter2"), 500),
    ],
)
async def test_an_unexpected_error_is_a_problem_that_says_nothing_of_it(
    app: FastAPI, error: Exception, status: int
) -> None:
    transport = httpx.ASGITransport(app=failing_app(app, error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get("/v1/boom")
    assert_problem(response, status)
    assert "hunter2" not in response.text
    assert "FileNotFoundError" not in response.text
    assert response.headers["x-request-id"]
    if status == 503:
        assert response.headers["retry-after"] == "5"
    else:
        assert response.headers["x-request-id"] in response.json()["detail"]
