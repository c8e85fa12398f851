"""Usage reports and budgets through the gateway, with gateway, generation and analytics as
real processes: reports are scoped to the caller, and a user over a hard budget is refused
before any provider call."""

import csv
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from analytics_support import start_analytics
from generation_stack import GenerationStack, User, register, start_generation_stack
from sqlalchemy.ext.asyncio import AsyncEngine
from table_rows import rows


@pytest.fixture(scope="module")
def stack() -> Iterator[GenerationStack]:
    analytics = start_analytics()
    try:
        yield from start_generation_stack()
    finally:
        analytics.terminate()


@pytest.fixture
def http(stack: GenerationStack) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


@pytest.fixture
def admin(stack: GenerationStack) -> User:
    assert stack.admin is not None
    return stack.admin


def generate(http: httpx.Client, user: User) -> httpx.Response:
    return http.post(
        "/v1/generations",
        json={"prompt": "Say something short.", "model": "mock-1"},
        headers={**user.headers, "Prefer": "wait=20"},
    )


def eventually(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.3)


def requests_reported(http: httpx.Client, user: User) -> int:
    report = http.get("/v1/usage", params={"group_by": "model"}, headers=user.headers)
    assert report.status_code == 200, report.text
    return sum(row["requests"] for row in report.json()["rows"])


def test_reports_hold_only_the_callers_usage(http: httpx.Client, admin: User) -> None:
    alice, bob = register(http), register(http)
    for _ in range(3):
        assert generate(http, alice).status_code == 200
    assert generate(http, bob).status_code == 200
    eventually(lambda: requests_reported(http, alice) == 3, "alice's 3 requests reported")
    eventually(lambda: requests_reported(http, bob) == 1, "bob's request reported")

    rows = http.get("/v1/usage", params={"group_by": "day,model"}, headers=alice.headers).json()
    assert {row["model"] for row in rows["rows"]} == {"mock-1"}
    assert all(row["user_id"] is None for row in rows["rows"])  # no user ids in own reports
    for row in rows["rows"]:  # money in plain notation (it was "0E-8"), times in whole ms
        assert row["cost_usd"] == "0"
        assert isinstance(row["latency_p50_ms"], int)
        assert isinstance(row["latency_p95_ms"], int)

    exported = http.get("/v1/usage", params={"format": "csv"}, headers=bob.headers)
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(row["requests"]) for row in table] == [1]
    assert table[0]["cost_usd"] == "0"
    assert table[0]["latency_p50_ms"].isdigit()

    summary = http.get("/v1/usage/summary", headers=alice.headers).json()
    assert summary["requests"] == 3
    assert summary["state"] == "ok"
    assert summary["spent_usd"] == "0"

    everyone = http.get("/v1/admin/usage", params={"limit": 10_000}, headers=admin.headers)
    assert everyone.status_code == 200, everyone.text
    by_user = {row["user_id"]: row["requests"] for row in everyone.json()["rows"]}
    assert by_user[alice.user_id] == 3
    assert by_user[bob.user_id] == 1
    refused = http.get("/v1/admin/usage", headers=alice.headers)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"start": "2026-11-20", "end": "2026-11-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        ({"group_by": "day,colour"}, "group_by"),
        ({"start": "yesterday"}, "start"),
    ],
)
def test_invalid_report_parameters_get_a_problem_naming_them(
    http: httpx.Client, params: dict[str, str], parameter: str
) -> None:
    user = register(http)
    response = http.get("/v1/usage", params=params, headers=user.headers)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    assert parameter in response.text


def test_a_user_over_a_hard_budget_is_refused_before_any_provider_call(
    http: httpx.Client, admin: User
) -> None:
    user = register(http)
    limits = http.put(
        f"/v1/admin/budgets/users/{user.user_id}",
        json={"token_limit": 20},
        headers=admin.headers,
    )
    assert limits.status_code == 200, limits.text
    assert limits.json()["limits"]["token_limit"] == 20
    assert generate(http, user).status_code == 200  # more than 20 tokens: over the limit

    def refused() -> bool:
        return generate(http, user).status_code == 402

    eventually(refused, "the gateway refusing the user over budget")
    problem = generate(http, user)
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["type"].endswith("/budget-exceeded")
    summary = http.get("/v1/usage/summary", headers=user.headers).json()
    assert summary["state"] == "hard_exceeded"
    assert summary["remaining_tokens"] == 0

    # Lifting the override lets the user back in (the solo tier has no token limit).
    cleared = http.delete(f"/v1/admin/budgets/users/{user.user_id}", headers=admin.headers)
    assert cleared.status_code == 204
    eventually(lambda: generate(http, user).status_code == 200, "the user admitted again")


async def test_what_an_administrator_sets_is_stored_column_by_column(
    http: httpx.Client, admin: User, engine: AsyncEngine, bootstrap: str
) -> None:
    """Budgets go to analytics and the catalogue to generation over request/reply, and
    generation announces the catalogue to the gateway's projection: every column each writes,
    read back."""
    user = register(http)
    client = httpx.AsyncClient(base_url=str(http.base_url), headers=admin.headers)
    limits = {"soft_limit_usd": "12.5", "hard_limit_usd": "20", "token_limit": 90_000}
    put = await client.put(f"/v1/admin/budgets/users/{user.user_id}", json=limits)
    assert put.status_code == 200, put.text
    [budget] = await rows(
        engine, "SELECT * FROM analytics.user_budgets WHERE user_id = :u", u=uuid.UUID(user.user_id)
    )
    assert dict(budget) == {
        "user_id": uuid.UUID(user.user_id),
        "soft_limit_usd": Decimal("12.5"),
        "hard_limit_usd": Decimal("20"),
        "token_limit": 90_000,
    }

    name = f"rb{uuid.uuid4().hex[:8]}"
    provider = {"label": "Read back", "base_url": "https://models.example.org/v1"}
    assert (await client.put(f"/v1/admin/catalog/providers/{name}", json=provider)).is_success
    model = {
        "context_window": 32_000,
        "max_output_tokens": 4_000,
        "input_price": "0.5",
        "output_price": "1.5",
        "cached_input_price": "0.05",
    }
    put = await client.put(f"/v1/admin/catalog/models/{name}/rb-1", json=model)
    await client.aclose()
    assert put.is_success, put.text
    [stored_provider] = await rows(
        engine, "SELECT * FROM generation.ai_providers WHERE name = :n", n=name
    )
    assert {k: v for k, v in stored_provider.items() if not k.endswith("_at")} == {
        "name": name,
        "label": "Read back",
        "api_style": "openai",
        "base_url": "https://models.example.org/v1",
        "requires_key": True,
        "enabled": True,
    }
    [stored_model] = await rows(
        engine, "SELECT * FROM generation.ai_models WHERE provider = :n", n=name
    )
    assert {k: v for k, v in stored_model.items() if not k.endswith("_at")} == {
        "provider": name,
        "model": "rb-1",
        "context_window": 32_000,
        "max_output_tokens": 4_000,
        "input_price": Decimal("0.5"),
        "output_price": Decimal("1.5"),
        "cached_input_price": Decimal("0.05"),
        "enabled": True,
    }
    changed = put.json()
    assert await rows(engine, "SELECT * FROM generation.catalog_version") == [
        {"singleton": True, "version": changed["version"]}
    ]
    assert await announced_catalogue(bootstrap, changed["version"]) == changed
    [projection] = await rows(engine, "SELECT * FROM gateway.catalog_projection")
    assert projection["updated_at"] > datetime.now(UTC) - timedelta(minutes=1)
    assert {k: v for k, v in projection.items() if k != "updated_at"} == {
        "singleton": True,
        "version": changed["version"],
        "providers": changed["providers"],
        "models": changed["models"],
    }


async def announced_catalogue(bootstrap: str, version: int) -> dict[str, object]:
    """The payload of the `catalog.changed` with `version`, read from the topic."""
    consumer = AIOKafkaConsumer(
        "catalog.changed", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30  # the outbox relay publishes it after the change
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    payload = catalogue_of(record.value)
                    if payload is not None and payload["version"] == version:
                        return payload
        raise AssertionError(f"no catalog.changed with version {version}")
    finally:
        await consumer.stop()


def catalogue_of(value: bytes | None) -> dict[str, object] | None:
    """The payload of a catalog.changed; None for the tombstones and junk other tests send to
    every topic a service reads."""
    try:
        payload: dict[str, object] = json.loads(value or b"")["payload"]
    except (ValueError, KeyError, TypeError):
        return None
    return payload
