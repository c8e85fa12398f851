"""docker-compose.yml run the way an operator runs it, minus the containers.

No Docker engine runs here, so compose's own loader (`deploy/compose-config`, the compose
specification's Go library) renders the file, and every command it names is then executed with
the environment it gives that container, only the addresses swapped for the local stack's: the
init job, each service, each health check. A user journey follows, and every line every service
wrote must be one JSON object.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from assistant_stack.profiles import REPO, SERVICES
from service_process import free_port

COMPOSE_CONFIG = REPO / ".local" / "tools" / "bin" / "compose-config"
COMPOSE_FILE = REPO / "docker-compose.yml"
VENV_BIN = Path(sys.executable).parent  # the image puts its venv first on PATH the same way
PASSWORD = "Correct-Horse-42"


def render(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE_CONFIG), str(COMPOSE_FILE)],
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    rendered = render(
        {
            "CREDENTIALS_KEYS": os.environ["CREDENTIALS_KEYS"],
            "GATEWAY_JWT_SECRET": os.environ["GATEWAY_JWT_SECRET"],
        }
    )
    assert rendered.returncode == 0, rendered.stderr
    project: dict[str, Any] = json.loads(rendered.stdout)
    return project


def test_compose_refuses_to_start_without_its_secrets() -> None:
    rendered = render({})
    assert rendered.returncode == 1
    assert "required variable CREDENTIALS_KEYS is missing a value" in rendered.stderr
    assert "required variable GATEWAY_JWT_SECRET is missing a value" in rendered.stderr


def test_every_service_waits_for_the_init_job_and_is_health_checked(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {*SERVICES, "kafka", "postgres", "init"}
    for name in SERVICES:
        assert services[name]["depends_on"]["init"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["healthcheck"]["test"][0] == "CMD"


@dataclass
class Container:
    """A compose service's command running as a local process, its streams kept apart."""

    name: str
    spec: dict[str, Any]
    environment: dict[str, str]
    lines: list[tuple[str, str]] = field(default_factory=list)  # (stream, line)
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.spec["command"],
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for stream, pipe in (("stdout", self.process.stdout), ("stderr", self.process.stderr)):
            threading.Thread(target=self._keep, args=(stream, pipe), daemon=True).start()

    def _keep(self, stream: str, pipe: IO[str] | None) -> None:
        assert pipe is not None
        for line in pipe:
            self.lines.append((stream, line))

    def healthy(self) -> bool:
        """Its compose health check, executed as the container runtime would."""
        kind, *command = self.spec["healthcheck"]["test"]
        assert kind == "CMD"
        probe = subprocess.run(command, env=self.environment, capture_output=True, timeout=30)
        return probe.returncode == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # what `docker compose stop` sends
            self.process.wait(60)

    def output(self) -> str:
        return "".join(line for _, line in self.lines[-40:])


def on_local_stack(
    name: str, environment: dict[str, str], blob_dir: Path, database_url: str, bootstrap: str
) -> dict[str, str]:
    """Compose's environment for `name`, its addresses swapped for the local stack's."""
    swapped = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "BLOB_DIR": str(blob_dir),
    }
    if name in SERVICES:
        port = free_port()
        swapped |= {
            f"{name.upper()}_HTTP_HOST": "127.0.0.1",
            f"{name.upper()}_HTTP_PORT": str(port),
            "PROBE_URL": f"http://127.0.0.1:{port}/readyz",
        }
    if name == "ingestion":
        swapped["INGESTION_MODEL_CACHE_DIR"] = os.environ["INGESTION_MODEL_CACHE_DIR"]
    missing = set(swapped) - set(environment)
    assert not missing, f"compose gives {name} no {sorted(missing)}"
    return {
        **environment,
        **swapped,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",  # as the image sets it
        "HOME": os.environ["HOME"],
    }


@pytest.fixture
def containers(
    compose: dict[str, Any], tmp_path: Path, database_url: str, bootstrap: str
) -> Iterator[dict[str, Container]]:
    running = {
        name: Container(
            name,
            compose["services"][name],
            on_local_stack(
                name,
                compose["services"][name]["environment"],
                tmp_path,
                database_url,
                bootstrap,
            ),
        )
        for name in ("init", *SERVICES)
    }
    yield running
    for container in running.values():
        container.stop()


def wait_healthy(containers: list[Container], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    pending = list(containers)
    while pending:
        for container in list(pending):
            assert container.process is not None
            if container.process.poll() is not None:
                raise AssertionError(f"{container.name} exited:\n{container.output()}")
            if container.healthy():
                pending.remove(container)
        if pending and time.monotonic() > deadline:
            names = ", ".join(c.name for c in pending)
            raise AssertionError(f"never healthy: {names}\n" + pending[0].output())
        time.sleep(0.5)


def not_json(container: Container) -> list[str]:
    bad = []
    for stream, line in container.lines:
        try:
            record = json.loads(line)
        except ValueError:
            bad.append(f"{container.name} {stream}: {line[:200]!r}")
            continue
        if not isinstance(record, dict) or record.get("service") != container.name:
            bad.append(f"{container.name} {stream} (not its record): {line[:200]!r}")
    return bad


def test_the_stack_starts_from_compose_serves_a_user_and_logs_only_json(
    containers: dict[str, Container],
) -> None:
    init = containers["init"]
    done = subprocess.run(
        init.spec["command"], env=init.environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "migrations at head" in done.stdout

    services = [containers[name] for name in SERVICES]
    for container in services:
        container.start()
    wait_healthy(services)

    gateway = containers["gateway"].environment["GATEWAY_HTTP_PORT"]
    with httpx.Client(base_url=f"http://127.0.0.1:{gateway}", timeout=60) as http:
        name = f"c{uuid.uuid4().hex[:12]}"
        body = {"email": f"{name}@example.org", "username": name, "password": PASSWORD}
        assert http.post("/v1/auth/register", json=body).status_code == 201
        token = http.post("/v1/auth/login", json={"login": name, "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        uploaded = http.post(
            "/v1/documents",
            files=[("files", ("runbook.md", b"# Runbook\n\nERR-4417 means the disk is full.\n"))],
            headers=headers,
        )
        assert uploaded.status_code == 202, uploaded.text
        document_id = uploaded.json()["documents"][0]["document_id"]
        deadline = time.monotonic() + 90
        while (
            status := http.get(f"/v1/documents/{document_id}", headers=headers).json()["status"]
        ) not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the upload never settled"
            time.sleep(0.3)
        assert status == "succeeded"
        answer = http.post(
            "/v1/generations",
            json={"prompt": "What does ERR-4417 mean?", "rag": {}},
            headers={**headers, "Prefer": "wait=30"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["content"].startswith("(mock answer)")

    for container in services:
        container.stop()
    bad = [line for container in services for line in not_json(container)]
    assert not bad, "\n".join(bad[:20])
    ingested = [
        json.loads(line)
        for _, line in containers["ingestion"].lines
        if '"document ingested"' in line
    ]
    assert any(record.get("document_id") == document_id for record in ingested), ingested
