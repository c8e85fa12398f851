"""Streamed generations: the upstream called directly, through this system, through LiteLLM.

One fake OpenAI-compatible upstream answers two kinds of stream: 15 tokens 5 ms apart after a
first token at 50 ms (`fixed`), and 300 tokens 30 ms apart, as a real model streams
(`paced-300x30ms`). The same client (httpx, streaming `POST /v1/chat/completions`) then
drives, in one run and for the same time at each concurrency:

  (a) the upstream directly — the baseline;
  (b) this system: gateway → Kafka → generation → upstream → Kafka → gateway;
  (c) LiteLLM's proxy (its own venv, `make bench` installs it) in front of the same upstream.

Reported: time to first token and total time (p50/p99), the time each path adds to the
baseline, and completed streams per second; for this system also what a stream costs it (CPU
of the gateway, generation, PostgreSQL and Kafka process trees, Kafka records appended,
PostgreSQL statements executed: `bench.system_cost`).

    python -m bench.generation_path [--seconds 10] [--concurrency 10 50 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant_stack.cli import environment
from bench.accounts import bench_users, login_admin
from bench.harness import BOOTSTRAP, DATABASE_URL, PROFILE, free_port, percentile, serve_until_ready
from bench.system_cost import Reading, infrastructure

LITELLM = Path(".local/litellm-venv/bin/litellm")
FIRST_TOKEN_DELAY_MS = 50
TOKEN_DELAY_MS = 5
# (what the runs are called, the upstream's model, the shortest run that completes enough)
STREAMS = (
    ("15 tokens, 5 ms apart", "fixed", 0.0),
    ("300 tokens, 30 ms apart", "paced-300x30ms", 20.0),
)
SETTLE_S = 2.0  # for the work that follows a stream (usage, status) to be counted with it
LITELLM_KEY = "sk-bench-" + uuid.uuid4().hex  # the proxy refuses to start without a master key


@dataclass
class Run:
    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.total) / self.seconds if self.seconds else 0.0


async def one_stream(client: httpx.AsyncClient, url: str, key: str, model: str, run: Run) -> None:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "stream": True,
    }
    started = time.perf_counter()
    first: float | None = None
    try:
        async with client.stream(
            "POST", url, json=body, headers={"Authorization": f"Bearer {key}"}
        ) as response:
            if response.status_code != 200:
                run.errors += 1
                await response.aread()
                return
            async for line in response.aiter_lines():
                if (
                    first is None
                    and line.startswith("data: {")
                    and '"content":"' in line.replace(" ", "")
                ):
                    chunk = json.loads(line[6:])
                    if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                        first = time.perf_counter()
    except httpx.HTTPError:
        run.errors += 1
        return
    if first is None:
        run.errors += 1
        return
    run.ttft.append((first - started) * 1000)
    run.total.append((time.perf_counter() - started) * 1000)


async def drive(url: str, keys: list[str], model: str, concurrency: int, seconds: float) -> Run:
    run = Run()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            while time.perf_counter() < deadline:
                await one_stream(client, url, keys[index % len(keys)], model, run)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        run.seconds = time.perf_counter() - started
    return run


def register_upstream(base: str, admin_email: str, upstream: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        token = login_admin(http, admin_email)
        headers = {"Authorization": f"Bearer {token}"}
        http.put(
            "/v1/admin/catalog/providers/bench-upstream",
            json={"label": "bench upstream", "api_style": "openai", "base_url": upstream},
            headers=headers,
        ).raise_for_status()
        for _, model, _ in STREAMS:
            http.put(
                f"/v1/admin/catalog/models/bench-upstream/{model}",
                json={
                    "context_window": 100_000,
                    "max_output_tokens": 4096,
                    "input_price": "1",
                    "output_price": "2",
                },
                headers=headers,
            ).raise_for_status()


def litellm_config(upstream: str) -> str:
    config = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)  # noqa: SIM115
    config.write("model_list:\n")
    for _, model, _ in STREAMS:
        config.write(
            f"  - model_name: {model}\n"
            "    litellm_params:\n"
            f"      model: openai/{model}\n"
            f"      api_base: {upstream}\n"
            "      api_key: bench-key\n"
        )
    config.write(f"general_settings:\n  master_key: {LITELLM_KEY}\n")
    config.close()
    return config.name


def report(name: str, run: Run, baseline: Run | None) -> str:
    text = (
        f"    {name:<22} ttft p50 {percentile(run.ttft, 50):7.1f}"
        f" p99 {percentile(run.ttft, 99):7.1f}"
        f" | total p50 {percentile(run.total, 50):7.1f} p99 {percentile(run.total, 99):7.1f} ms"
        f" | {run.rate:6.1f} streams/s"
    )
    if baseline is not None:
        text += (
            f" | added ttft p50 {percentile(run.ttft, 50) - percentile(baseline.ttft, 50):+6.1f}"
            f" p99 {percentile(run.ttft, 99) - percentile(baseline.ttft, 99):+6.1f}"
            f", total p50 {percentile(run.total, 50) - percentile(baseline.total, 50):+6.1f}"
            f" p99 {percentile(run.total, 99) - percentile(baseline.total, 99):+6.1f} ms"
        )
    if run.errors:
        text += f" | {run.errors} errors"
    return text


def service_env(admin_email: str, gateway_port: int, generation_port: int) -> dict[str, str]:
    """The gateway's and generation's environment on the bench stack, `admin_email` their
    first administrator and the fake upstream's key set."""
    return {
        **os.environ,
        **environment(PROFILE),
        "GATEWAY_HTTP_PORT": str(gateway_port),
        "GENERATION_HTTP_PORT": str(generation_port),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GENERATION_LOG_LEVEL": "WARNING",
        "GATEWAY_JWT_SECRET": "b" * 40,
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": admin_email,
        "GENERATION_PROVIDER_KEYS": json.dumps({"bench-upstream": "bench-key"}),
    }


def main(seconds: float, concurrencies: list[int]) -> None:
    upstream_port, gateway_port, generation_port, litellm_port = (free_port() for _ in range(4))
    upstream_url = f"http://127.0.0.1:{upstream_port}/v1"
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = service_env(admin_email, gateway_port, generation_port)
    fake = [
        "-m",
        "assistant_fakes.llm",
        "--port",
        str(upstream_port),
        "--first-token-delay-ms",
        str(FIRST_TOKEN_DELAY_MS),
        "--token-delay-ms",
        str(TOKEN_DELAY_MS),
    ]
    has_litellm = LITELLM.exists()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            serve_until_ready([sys.executable, *fake], f"http://127.0.0.1:{upstream_port}/_aborted")
        )
        for service, port in (("gateway", gateway_port), ("generation", generation_port)):
            processes.append(
                serve_until_ready(
                    [sys.executable, "-m", f"{service}_service", "serve"],
                    f"http://127.0.0.1:{port}/readyz",
                    env=env,
                )
            )
        if has_litellm:
            config = litellm_config(upstream_url)
            processes.append(
                serve_until_ready(
                    [str(LITELLM), "--config", config, "--port", str(litellm_port)],
                    f"http://127.0.0.1:{litellm_port}/health/liveliness",
                    # With DATABASE_URL set, LiteLLM would try to keep its state there.
                    env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
                    timeout=180,
                )
            )
        base = f"http://127.0.0.1:{gateway_port}"
        register_upstream(base, admin_email, upstream_url)
        keys = bench_users(base, admin_email, 20)
        time.sleep(6)  # every gateway worker's catalogue in memory has been read again
        roots = {
            "gateway": processes[1].pid,
            "generation": processes[2].pid,
            **infrastructure(PROFILE),
        }
        for title, model, shortest_s in STREAMS:
            run_s = max(seconds, shortest_s)
            print(
                f"Streamed generations of {title} (first after {FIRST_TOKEN_DELAY_MS} ms),"
                f" {run_s:g}s per run"
            )
            for concurrency in concurrencies:
                direct = asyncio.run(
                    drive(f"{upstream_url}/chat/completions", ["k"], model, concurrency, run_s)
                )
                before = asyncio.run(Reading.take(roots, BOOTSTRAP, DATABASE_URL))
                system = asyncio.run(
                    drive(
                        f"{base}/v1/chat/completions",
                        keys,
                        f"bench-upstream/{model}",
                        concurrency,
                        run_s,
                    )
                )
                time.sleep(SETTLE_S)
                after = asyncio.run(Reading.take(roots, BOOTSTRAP, DATABASE_URL))
                print(f"  {concurrency} concurrent streams")
                print(report("(a) upstream directly", direct, None))
                print(report("(b) this system", system, direct))
                print(f"      {after.per_stream(before, len(system.total))}")
                if has_litellm:
                    litellm = asyncio.run(
                        drive(
                            f"http://127.0.0.1:{litellm_port}/v1/chat/completions",
                            [LITELLM_KEY],
                            model,
                            concurrency,
                            run_s,
                        )
                    )
                    print(report("(c) LiteLLM proxy", litellm, direct))
                else:
                    print("    (c) LiteLLM proxy: not installed (make bench installs it)")
    finally:
        for process in processes:
            process.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50, 200])
    options = parser.parse_args()
    main(options.seconds, options.concurrency)
