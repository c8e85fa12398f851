"""Alembic for a service's own schema: each service has its own history and version table.

A service's `migrations/env.py` is two lines: import its metadata, call `run_env(metadata)`.
`upgrade()` / `downgrade()` drive Alembic programmatically from the service's CLI.
"""

import asyncio
import re
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from assistant_db.engine import sqlalchemy_url
from assistant_db.metadata import quoted_schema

VERSION_TABLE = "alembic_version"


def alembic_config(migrations_dir: Path, database_url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # Options are read with configparser's interpolation: a percent-encoded character (in a
    # password, or a Unix socket's path) would be taken for a reference to another option.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade(migrations_dir: Path, database_url: str, schema: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(migrations_dir, database_url, schema), revision)


def downgrade(migrations_dir: Path, database_url: str, schema: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(migrations_dir, database_url, schema), revision)


def head_revision(migrations_dir: Path) -> str | None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return ScriptDirectory.from_config(config).get_current_head()


async def current_revision(engine: AsyncEngine, schema: str) -> str | None:
    """The revision `schema` is at; None before its first migration."""
    table = f"{quoted_schema(schema)}.{VERSION_TABLE}"
    async with engine.connect() as connection:
        exists = await connection.scalar(text("SELECT to_regclass(:t)"), {"t": table})
        if exists is None:
            return None
        revision = await connection.scalar(text(f"SELECT version_num FROM {table}"))  # noqa: S608
        return str(revision) if revision else None


# Partitions of a partitioned table are created at run time as `<table>_pYYYYMM`; they are
# the table's storage, not tables of the model. Likewise indexes created at run time (one per
# row of some table, say) are named `<name>_rt<N>`.
PARTITION_NAME = re.compile(r".+_p\d{6}")
RUN_TIME_INDEX_NAME = re.compile(r".+_rt\d+")


def context_options(schema: str) -> dict[str, Any]:
    """Alembic options of a service: its own version table, and autogenerate comparing only
    its own schema (never another service's), partitions and run-time indexes left out."""

    def include_name(name: str | None, type_: str, _parent: object) -> bool:
        if type_ == "schema":
            return name == schema
        if type_ == "table" and name and PARTITION_NAME.fullmatch(name):
            return False
        return not (type_ == "index" and name and RUN_TIME_INDEX_NAME.fullmatch(name))

    return {
        "version_table_schema": schema,
        "version_table": VERSION_TABLE,
        "include_schemas": True,
        "include_name": include_name,
        "compare_type": True,
    }


def run_env(metadata: MetaData) -> None:
    """Body of every service's `env.py`: online migrations of `metadata.schema` only."""
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    def configure_and_run(connection: Connection) -> None:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted_schema(schema)}"))
        context.configure(
            connection=connection, target_metadata=metadata, **context_options(schema)
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(configure_and_run)
        await engine.dispose()

    asyncio.run(run())
