"""Running a service as a real OS process, watching its output, and killing it."""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    def __init__(self, module: str, port: int, env: Mapping[str, str]) -> None:
        self.port = port
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", module, "serve"],
            env={**os.environ, "PYTHONPATH": str(HERE), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def readyz(self) -> httpx.Response | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=3)
        except httpx.HTTPError:
            return None

    def wait_ready(self, timeout: float = 30, ready: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("process exited:\n" + "".join(self.output[-30:]))
            response = self.readyz()
            if response is not None and (response.status_code == 200) == ready:
                return
            time.sleep(0.2)
        raise AssertionError(f"readyz never became {ready}:\n" + "".join(self.output[-30:]))

    def wait_for_line(self, needles: Sequence[str], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if all(needle in line for needle in needles):
                return line
        raise AssertionError(f"no line with {needles}:\n" + "".join(self.output[-30:]))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
