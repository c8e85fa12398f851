from pathlib import Path

from assistant_schemas.asyncapi import build_document

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


def test_the_checked_in_asyncapi_document_matches_the_code() -> None:
    assert CHECKED_IN.read_text() == build_document(), (
        "docs/asyncapi.yaml is stale: run `make docs` and commit it"
    )


def test_the_document_describes_every_topic_with_its_key() -> None:
    document = build_document()
    assert "address: usage.recorded" in document
    assert "Key: user_id" in document
