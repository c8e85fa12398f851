"""Migrating and running the five services as separate processes."""

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from assistant_stack.processes import StackError
from assistant_stack.profiles import SERVICES, Profile

COLORS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m")
RESET = "\033[0m"


def _module(service: str) -> str:
    return f"{service}_service"


def migrate(env: Mapping[str, str], services: tuple[str, ...] = SERVICES) -> None:
    """Applies every service's migrations (in parallel: each has its own history)."""
    running = {
        service: subprocess.Popen(
            [sys.executable, "-m", _module(service), "migrate"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for service in services
    }
    failed = []
    for service, process in running.items():
        output, _ = process.communicate()
        if process.returncode != 0:
            failed.append(f"{service}:\n{output}")
    if failed:
        raise StackError("migrations failed for " + "\n".join(failed))


class ServiceProcesses:
    """The services as children whose output is prefixed with their name and kept in logs/."""

    def __init__(self, profile: Profile, env: Mapping[str, str]) -> None:
        self.profile = profile
        self.env = env
        self.children: dict[str, subprocess.Popen[str]] = {}

    def start(self) -> None:
        log_dir = self.profile.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for index, service in enumerate(SERVICES):
            child = subprocess.Popen(
                [sys.executable, "-u", "-m", _module(service), "serve"],
                env={**os.environ, **self.env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            self.children[service] = child
            prefix = f"{COLORS[index % len(COLORS)]}{service:<12}|{RESET} "
            threading.Thread(
                target=_pump, args=(child.stdout, prefix, log_dir / f"{service}.log"), daemon=True
            ).start()

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(SERVICES)
        while pending and time.monotonic() < deadline:
            for service in sorted(pending):
                if self.children[service].poll() is not None:
                    raise StackError(f"{service} exited with {self.children[service].returncode}")
                if _ready(self.profile.http_port(service)):
                    pending.discard(service)
            time.sleep(0.3)
        if pending:
            raise StackError(f"not ready after {timeout_s:g}s: {', '.join(sorted(pending))}")

    def any_exited(self) -> str | None:
        for service, child in self.children.items():
            if child.poll() is not None:
                return service
        return None

    def stop(self, timeout_s: float = 30) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + timeout_s
        for child in self.children.values():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


def _pump(stream: IO[str] | None, prefix: str, log_file: Path) -> None:
    if stream is None:
        return
    with log_file.open("a") as log:
        for line in stream:
            log.write(line)
            log.flush()
            sys.stdout.write(prefix + line)
            sys.stdout.flush()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
