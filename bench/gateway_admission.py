"""Authenticated admission overhead of the gateway, against a bare FastAPI endpoint.

Both servers run as one uvicorn process each on this machine; `wrk` (one thread) drives them
for the same time at each concurrency. Measured: `GET /v1/me` with a JWT (signature check, the
caller's row, their settings) and the same with an API key (hash lookup).

    python -m bench.gateway_admission [--seconds 10] [--connections 50 200]

The publishing path (an authenticated POST that writes to the outbox and answers 202) is
measured once such an endpoint exists (POST /v1/generations).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import uuid

import httpx

from assistant_stack.cli import environment
from bench.harness import PROFILE, free_port, serve_until_ready

PASSWORD = "Bench-Password-2026"


def credentials(base: str) -> tuple[str, str]:
    name = f"bench{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{base}/v1/auth/register",
        json={"email": f"{name}@example.org", "username": name, "password": PASSWORD},
    ).raise_for_status()
    token = httpx.post(f"{base}/v1/auth/login", json={"login": name, "password": PASSWORD}).json()[
        "access_token"
    ]
    key = httpx.post(
        f"{base}/v1/api-keys", json={"name": "bench"}, headers={"Authorization": f"Bearer {token}"}
    ).json()["key"]
    return token, key


def wrk(url: str, connections: int, seconds: int, header: str | None = None) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * units[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rate": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def line(name: str, figures: dict[str, float], baseline: dict[str, float] | None) -> str:
    ratio = (
        f"  ({figures['rate'] / baseline['rate']:.0%} of baseline)" if baseline else "  (baseline)"
    )
    errors = f"  {int(figures['errors'])} errors" if figures["errors"] else ""
    return (
        f"    {name:<26} {figures['rate']:8.0f} req/s   p50 {figures['p50']:7.2f} ms   "
        f"p99 {figures['p99']:7.2f} ms{ratio}{errors}"
    )


def main(seconds: int, connections: list[int]) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    bare_port, gateway_port = free_port(), free_port()
    bare = serve_until_ready(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
        ],
        f"http://127.0.0.1:{bare_port}/bare",
    )
    env = {
        **os.environ,
        **environment(PROFILE),
        "GATEWAY_HTTP_PORT": str(gateway_port),
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    gateway = serve_until_ready(
        [sys.executable, "-m", "gateway_service", "serve"],
        f"http://127.0.0.1:{gateway_port}/readyz",
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{gateway_port}"
        token, key = credentials(base)
        print(f"Gateway admission, {seconds}s per run, wrk with one thread")
        for count in connections:
            baseline = wrk(f"http://127.0.0.1:{bare_port}/bare", count, seconds)
            with_jwt = wrk(f"{base}/v1/me", count, seconds, f"Authorization: Bearer {token}")
            with_key = wrk(f"{base}/v1/me", count, seconds, f"Authorization: Bearer {key}")
            print(f"  {count} concurrent clients")
            print(line("bare FastAPI GET", baseline, None))
            print(line("GET /v1/me (JWT)", with_jwt, baseline))
            print(line("GET /v1/me (API key)", with_key, baseline))
    finally:
        gateway.terminate()
        bare.terminate()


if __name__ == "__main__":
    os.environ.setdefault("STACK_PROFILE", "bench")
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, nargs="+", default=[50, 200])
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.connections)
