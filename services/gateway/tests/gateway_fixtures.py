"""Fixtures of the gateway tests (a pytest plugin, loaded by the root conftest.py).

Gateway tests run the app in-process against the real PostgreSQL of the test stack; each test
runs inside one transaction that is rolled back (the root conftest's `connection`), so tests
never see each other's rows."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_db import driver_connection
from gateway_service.admission.gate import Admissions
from gateway_service.catalog.service import CatalogView
from gateway_service.http.dependencies import database_connection
from gateway_service.service import create_app
from gateway_service.settings import GatewaySettings
from gateway_test_support import CREDENTIALS_KEY, JWT_SECRET, PASSWORD, Register


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "services/gateway/tests" in str(item.path) and "test_openapi" not in str(item.path):
            item.add_marker(pytest.mark.stack)


def app_for(settings: GatewaySettings, connection: AsyncConnection) -> FastAPI:
    """A gateway app built from `settings`, whose sessions join `connection`. Without the web
    console: tests add routes of their own after the app is made, and the console, mounted at
    `/`, would answer them first (tests/integration/test_console.py serves it)."""
    app = create_app(settings.model_copy(update={"console_dir": Path("no-console-in-api-tests")}))

    def rolled_back_session() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    async def test_connection() -> asyncpg.Connection:
        # Outside the session's savepoint, as the hot path's statements run in autocommit.
        return await driver_connection(connection)

    app.state.sessions = rolled_back_session
    app.state.catalog = CatalogView(rolled_back_session, settings.catalog_ttl_s)
    app.dependency_overrides[database_connection] = test_connection
    # One write at a time: one connection is enough.
    app.state.admissions = Admissions(test_connection, test_connection)
    return app


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def client_for(
    settings: GatewaySettings, connection: AsyncConnection
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return client_of(app_for(settings, connection))


@pytest.fixture
def app(connection: AsyncConnection) -> FastAPI:
    settings = GatewaySettings(
        jwt_secret=SecretStr(JWT_SECRET), credentials_keys=SecretStr(CREDENTIALS_KEY)
    )
    return app_for(settings, connection)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


@pytest.fixture
def register(client: httpx.AsyncClient) -> Register:
    """Registers a user and logs in; returns the login's token pair plus the user."""

    async def register_and_login(username: str = "ada", **fields: Any) -> dict[str, Any]:
        body = {
            "email": f"{username}@example.org",
            "username": username,
            "password": PASSWORD,
            **fields,
        }
        created = await client.post("/v1/auth/register", json=body)
        assert created.status_code == 201, created.text
        login = await client.post(
            "/v1/auth/login", json={"login": username, "password": body["password"]}
        )
        assert login.status_code == 200, login.text
        return {**login.json(), "user": created.json()}

    return register_and_login
