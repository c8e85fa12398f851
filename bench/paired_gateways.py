"""Two versions of the gateway side by side: CPU per accepted generation, paired.

Each side is a git work tree with its own environment (`<tree>/.venv`), for example the commit
before a change and the commit after it. Both gateways serve at once, on the bench stack's
PostgreSQL and Kafka, each offered the same fixed rate of asynchronous `POST
/v1/generations` by its own vegeta, so that the machine's state of the minute is the same for
both (run one after the other, this machine's speed moves a gateway's CPU for the same load by
±20%). Measured per side and round: CPU seconds of the gateway's process tree (from /proc) per
accepted request, and the p99 its client saw.

The two gateways share one outbox, whose relay runs in whichever started first: so the sides
swap their starting order every round, and a ratio is taken over an even number of rounds.
Run with the same tree on both sides (an A/A run) to see what is left of the harness's own
bias.

    python -m bench.paired_gateways --a /tmp/before --b /tmp/after [--rate 450]
        [--seconds 15] [--rounds 4]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from assistant_stack.cli import environment
from bench.accounts import bench_users
from bench.gateway_admission import (
    accept_one,
    reported,
    skip_generation_backlog,
    vegeta,
    wait_for_catalogue,
)
from bench.harness import PROFILE, free_port, serve_until_ready
from bench.system_cost import tree_cpu_s

USERS = 40
WARM_UPS = 8


@dataclass(frozen=True)
class Side:
    name: str
    tree: Path

    @property
    def python(self) -> str:
        return str(self.tree / ".venv" / "bin" / "python")


@dataclass(frozen=True)
class Measured:
    cpu_us_per_request: float
    p99_ms: float
    accepted: int


def service_env(admin_email: str) -> dict[str, str]:
    return {
        **os.environ,
        **environment(PROFILE),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GENERATION_LOG_LEVEL": "WARNING",
        "GATEWAY_JWT_SECRET": "a" * 40,
        "GATEWAY_BOOTSTRAP_ADMIN_EMAIL": admin_email,
        "GATEWAY_CATALOG_TTL_S": "3600",
        "GATEWAY_HTTP_WORKERS": "1",  # two gateways on two cores
    }


def start(side: Side, service: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = serve_until_ready(
        [side.python, "-m", f"{service}_service", "serve"],
        f"http://127.0.0.1:{port}/readyz",
        env={**env, f"{service.upper()}_HTTP_PORT": str(port)},
    )
    return process, f"http://127.0.0.1:{port}"


def one_round(
    order: list[Side], env: dict[str, str], users: list[str], rate: int, seconds: int
) -> dict[str, Measured]:
    """Both gateways started in `order` (the first runs the relay), then loaded at once."""
    started = [(side, *start(side, "gateway", env)) for side in order]
    try:
        for _, _, base in started:
            for _ in range(WARM_UPS):
                accept_one(base, users[0], timeout=30)
        roots = {side.name: process.pid for side, process, _ in started}
        before = tree_cpu_s(roots)
        results: dict[str, bytes] = {}

        def load(side: Side, base: str) -> None:
            results[side.name] = vegeta(f"{base}/v1/generations", users, rate, seconds)

        threads = [threading.Thread(target=load, args=(side, base)) for side, _, base in started]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = tree_cpu_s(roots)
    finally:
        for _, process, _ in started:
            process.terminate()
            process.wait(30)
    measured = {}
    for side, _, _ in started:
        figures = reported(results[side.name])
        accepted = round(figures["rate"] * seconds)
        cpu_s = after[side.name] - before[side.name]
        measured[side.name] = Measured(cpu_s / max(accepted, 1) * 1e6, figures["p99"], accepted)
    return measured


def main(a: Path, b: Path, rate: int, seconds: int, rounds: int) -> None:
    sides = [Side("a", a), Side("b", b)]
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = service_env(admin_email)
    generation, _ = start(sides[0], "generation", env)
    gateway, base = start(sides[0], "gateway", env)
    try:
        users = bench_users(base, admin_email, USERS)
        wait_for_catalogue(base, users[0])
    finally:
        for process in (gateway, generation):
            process.terminate()
            process.wait(60)
    print(f"Paired gateways, {rate} requests/s each for {seconds}s: a = {a}, b = {b}")
    ratios = []
    try:
        for number in range(rounds):
            order = sides if number % 2 == 0 else sides[::-1]
            measured = one_round(order, env, users, rate, seconds)
            ratio = measured["b"].cpu_us_per_request / measured["a"].cpu_us_per_request
            ratios.append(ratio)
            print(
                f"  round {number + 1} (relay in {order[0].name}): "
                + "   ".join(
                    f"{name}: {m.cpu_us_per_request:6.0f} µs/request, p99 {m.p99_ms:7.2f} ms, "
                    f"{m.accepted} accepted"
                    for name, m in sorted(measured.items())
                )
                + f"   b/a {ratio:.3f}"
            )
    finally:
        asyncio.run(skip_generation_backlog())
    # The geometric mean: the relay's cost falls on each side in turn, and a ratio and its
    # inverse must average to 1.
    print(
        f"  CPU per request, b/a: geometric mean {statistics.geometric_mean(ratios):.3f} "
        f"over {rounds} rounds"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", type=Path, required=True, help="the baseline's work tree")
    parser.add_argument("--b", type=Path, required=True, help="the candidate's work tree")
    parser.add_argument("--rate", type=int, default=450)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=4)
    arguments = parser.parse_args()
    if arguments.rounds % 2:
        sys.exit("--rounds must be even: the sides take turns running the relay")
    main(arguments.a, arguments.b, arguments.rate, arguments.seconds, arguments.rounds)
