"""`python -m assistant_stack COMMAND [--profile run|test|bench]`

up        Kafka + PostgreSQL in the background, topics created, migrations applied
down      stop them
run       up, then the five services in the foreground; Ctrl-C stops everything
migrate   apply every service's migrations
init      topics and migrations on a Kafka and PostgreSQL run elsewhere (docker-compose's init
          job): needs KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL
test      a fresh test stack, pytest against it, then down (pytest's arguments follow --)
env       print the environment variables that reach the profile's stack
status    what is running
"""

import argparse
import asyncio
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

from assistant_messaging.kafka.admin import ensure_topics
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_stack import kafka, postgres
from assistant_stack.processes import StackError, running_pid, stop
from assistant_stack.profiles import LOCAL, PROFILES, REPO, Profile
from assistant_stack.services import ServiceProcesses, migrate

SECRET_VARIABLES = {"GATEWAY_JWT_SECRET", "CREDENTIALS_KEYS"}


def external_database(profile: Profile) -> str | None:
    """A DATABASE_URL set by the operator (not this profile's own) replaces embedded PostgreSQL."""
    url = os.environ.get("DATABASE_URL")
    return url if url and url != profile.database_url else None


def environment(profile: Profile) -> dict[str, str]:
    env = profile.environment()
    env["DATABASE_URL"] = external_database(profile) or profile.database_url
    env["GATEWAY_JWT_SECRET"] = os.environ.get("GATEWAY_JWT_SECRET") or local_secret(
        profile, "gateway-jwt-secret", lambda: secrets.token_urlsafe(48)
    )
    env["CREDENTIALS_KEYS"] = os.environ.get("CREDENTIALS_KEYS") or local_secret(
        profile, "credentials-keys", CredentialCipher.generate_key
    )
    # Uploaded bytes: written by the gateway, read and deleted by ingestion.
    env["BLOB_DIR"] = os.environ.get("BLOB_DIR") or str((profile.data_dir / "blobs").resolve())
    # Derived from the model's weights alone, so every profile shares one copy.
    env["INGESTION_MODEL_CACHE_DIR"] = os.environ.get("INGESTION_MODEL_CACHE_DIR") or str(
        (LOCAL / "cache" / "models").resolve()
    )
    # FreeDict's Portuguese-English dictionaries, unpacked by `make install`.
    env["INGESTION_DICTIONARY_DIR"] = os.environ.get("INGESTION_DICTIONARY_DIR") or str(
        (LOCAL / "dictd" / "usr" / "share" / "dictd").resolve()
    )
    # The built web console (`make web`), served by the gateway at `/`.
    env["GATEWAY_CONSOLE_DIR"] = os.environ.get("GATEWAY_CONSOLE_DIR") or str(REPO / "web" / "dist")
    return env


def local_secret(profile: Profile, name: str, make: Callable[[], str]) -> str:
    """A secret kept in the profile's data dir (mode 0600), so it survives a restart."""
    path = profile.data_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def up(profile: Profile, *, fresh: bool = False) -> dict[str, str]:
    started = time.monotonic()
    if fresh:
        down(profile)
        shutil.rmtree(profile.data_dir, ignore_errors=True)
    profile.data_dir.mkdir(parents=True, exist_ok=True)
    env = environment(profile)
    kafka.start(profile)
    if external_database(profile) is None:
        postgres.start(profile)
    created = asyncio.run(ensure_topics(profile.bootstrap_servers))
    migrate(env)
    print(
        f"stack '{profile.name}' up in {time.monotonic() - started:.1f}s: "
        f"Kafka {profile.bootstrap_servers}, PostgreSQL {env['DATABASE_URL']}"
        + (f", {len(created)} topics created" if created else ""),
        flush=True,
    )
    return env


def init() -> None:
    """Topics and migrations on infrastructure someone else runs (compose, Kubernetes)."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if not bootstrap or not os.environ.get("DATABASE_URL"):
        raise StackError("init needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS")
    replication = int(os.environ.get("KAFKA_REPLICATION_FACTOR", "1"))
    created = asyncio.run(ensure_topics(bootstrap, replication_factor=replication, wait_s=120))
    migrate({})
    print(f"initialised: {len(created)} topics created, migrations at head", flush=True)


def down(profile: Profile) -> None:
    stopped = stop("kafka", profile.data_dir)
    if external_database(profile) is None:
        stopped = postgres.stop(profile) or stopped
    print(f"stack '{profile.name}' " + ("stopped" if stopped else "was not running"))


def run(profile: Profile) -> int:
    was_up = running_pid("kafka", profile.data_dir) is not None
    env = up(profile)
    services = ServiceProcesses(profile, env)
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    services.start()
    try:
        services.wait_ready()
        print(
            f"\nNotion Assistant is running: gateway http://127.0.0.1:"
            f"{profile.http_port('gateway')}  (API docs at /docs; Ctrl-C stops everything)\n",
            flush=True,
        )
        while not stopping:
            exited = services.any_exited()
            if exited:
                print(f"{exited} exited; stopping", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping services ...", flush=True)
        services.stop()
        if not was_up:
            down(profile)


def test(profile: Profile, pytest_args: list[str]) -> int:
    env = up(profile, fresh=True)
    try:
        command = [sys.executable, "-m", "pytest", *pytest_args]
        return subprocess.run(command, env={**os.environ, **env}, cwd=REPO).returncode
    finally:
        down(profile)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m assistant_stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command", choices=["up", "down", "run", "migrate", "init", "test", "env", "status"]
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="run")
    parser.add_argument("--fresh", action="store_true", help="up: start from empty data")
    args, rest = parser.parse_known_args()
    profile = PROFILES[args.profile]
    try:
        if args.command == "up":
            up(profile, fresh=args.fresh)
        elif args.command == "down":
            down(profile)
        elif args.command == "run":
            raise SystemExit(run(profile))
        elif args.command == "migrate":
            migrate(environment(profile))
        elif args.command == "init":
            init()
        elif args.command == "test":
            raise SystemExit(test(profile, [a for a in rest if a != "--"]))
        elif args.command == "env":
            for key, value in environment(profile).items():
                if key not in SECRET_VARIABLES:  # secrets stay in the data dir, not in shells
                    print(f"export {key}={shlex.quote(value)}")  # a URL's `&` and `?`
        else:
            kafka_pid = running_pid("kafka", profile.data_dir)
            print(f"kafka: {'running, pid ' + str(kafka_pid) if kafka_pid else 'stopped'}")
            print(f"postgres: {'running' if postgres.is_running(profile) else 'stopped'}")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
