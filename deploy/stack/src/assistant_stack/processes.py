"""Background processes the stack owns, tracked by pid files in the profile's data dir."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


class StackError(RuntimeError):
    """A stack step failed; the message says what to do."""


def start_detached(
    name: str,
    command: Sequence[str],
    *,
    pid_dir: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    (pid_dir / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def running_pid(name: str, pid_dir: Path) -> int | None:
    pid_file = pid_dir / f"{name}.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink()
        return None
    return pid


def stop(name: str, pid_dir: Path, *, timeout_s: float = 30) -> bool:
    """SIGTERM, then SIGKILL after `timeout_s`; returns whether something was running."""
    pid = running_pid(name, pid_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        _reap(pid)
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    (pid_dir / f"{name}.pid").unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_for_port(port: int, *, timeout_s: float, what: str, log_file: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    hint = f"; see {log_file}" if log_file else ""
    raise StackError(f"{what} did not open port {port} within {timeout_s:g}s{hint}")
