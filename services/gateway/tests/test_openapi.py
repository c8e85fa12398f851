from pathlib import Path

from gateway_service.openapi import build_document

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_the_checked_in_openapi_document_matches_the_code() -> None:
    assert CHECKED_IN.read_text() == build_document(), (
        "docs/openapi.json is stale: run `make docs` and commit it"
    )


def test_operations_endpoints_are_documented() -> None:
    document = build_document()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert f'"{path}"' in document
