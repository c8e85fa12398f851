"""The API's own page works offline: Swagger UI comes from the gateway, not a CDN, and shows
every operation of the OpenAPI document (it was blank on a machine without internet)."""

from collections.abc import Iterator

import httpx
import pytest
from browser import offline_page

from service_process import ServiceProcess, free_port


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    port = free_port()
    process = ServiceProcess("gateway_service", port, {"GATEWAY_HTTP_PORT": str(port)})
    try:
        process.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()


def test_swagger_ui_renders_every_operation_with_no_network(gateway: str) -> None:
    document = httpx.get(f"{gateway}/openapi.json").json()
    # Swagger UI lists an operation under each of its tags.
    operations = sum(
        len(operation.get("tags") or ["default"])
        for path in document["paths"].values()
        for operation in path.values()
    )
    with offline_page() as browsing:
        browsing.page.goto(f"{gateway}/docs")
        browsing.page.wait_for_selector(".opblock", timeout=30_000)
        shown = browsing.page.locator(".opblock").count()
        title = browsing.page.locator(".title").first.inner_text()
        assert browsing.refused == []  # nothing asked of a CDN
        assert browsing.errors == []
    assert shown == operations
    assert document["info"]["title"] in title
