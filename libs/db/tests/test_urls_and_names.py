from pathlib import Path

import pytest

from assistant_db.engine import asyncpg_dsn, sqlalchemy_url
from assistant_db.metadata import quoted_schema, service_metadata
from assistant_db.migrations import alembic_config


def test_operator_urls_become_the_asyncpg_dialect() -> None:
    assert sqlalchemy_url("postgresql://u:p@h:5432/d") == "postgresql+asyncpg://u:p@h:5432/d"
    assert sqlalchemy_url("postgresql+asyncpg://h/d") == "postgresql+asyncpg://h/d"
    assert asyncpg_dsn("postgresql+asyncpg://u:p@h/d") == "postgresql://u:p@h/d"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://u:p%40ss@h:5432/d",  # a password with an @
        "postgresql+asyncpg://u@/d?host=%2Fvar%2Frun%2Fpostgresql&port=5432",  # a Unix socket
    ],
)
def test_migrations_reach_a_url_with_percent_encoded_characters(url: str) -> None:
    config = alembic_config(Path("migrations"), url, "probe")
    assert config.get_main_option("sqlalchemy.url") == url


@pytest.mark.parametrize("name", ['x"; DROP TABLE users; --', "Upper", "1abc", "a" * 64, ""])
def test_schema_names_in_ddl_are_validated(name: str) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        quoted_schema(name)


def test_service_metadata_names_constraints_predictably() -> None:
    metadata = service_metadata("gateway")
    assert metadata.schema == "gateway"
    assert metadata.naming_convention["pk"] == "pk_%(table_name)s"
