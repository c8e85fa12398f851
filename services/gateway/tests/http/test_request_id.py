"""`X-Request-ID`: echoed when it is a sane token, replaced when it is not."""

import httpx
import pytest


async def test_a_sane_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "frontend-1234:abc"})
    assert response.headers["x-request-id"] == "frontend-1234:abc"


@pytest.mark.parametrize("offered", ["x" * 500, "has spaces", "new\\nline", ""])
async def test_an_unusable_request_id_is_replaced(client: httpx.AsyncClient, offered: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": offered})
    echoed = response.headers["x-request-id"]
    assert echoed != offered
    assert len(echoed) == 36  # a fresh UUID


async def test_without_one_a_request_id_is_assigned(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert first != second
