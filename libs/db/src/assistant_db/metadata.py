"""Metadata for a service's schema, with constraint names that are stable across migrations."""

import re

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    """Every table of a service lives in the schema named after it."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quoted_schema(name: str) -> str:
    """A schema name for DDL, where identifiers cannot be bound parameters: validated, quoted."""
    if not SCHEMA_NAME.match(name):
        raise ValueError(f"invalid schema name {name!r}")
    return f'"{name}"'
