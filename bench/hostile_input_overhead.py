"""What refusing hostile input costs the gateway's hot path, per request, in CPU.

The gateway's requests pass two middlewares added for hostile input (issue 26): the text guard
(NUL in the path, query string or JSON body) and the error boundary (any exception becomes a
problem document). Both run in-process, so their cost is measured in-process, where the noise
of this machine's network and database does not drown a few microseconds: the same request —
`POST /v1/generations` with the JSON body and headers the admission benchmark sends, and a
search `GET` with a query string — is served by an ASGI app that answers 202 at once, behind
the middlewares the gateway had before (the body limit) and behind those it has now, in
alternated rounds. Reported: CPU microseconds per request of each, and the difference. The
login throttle and the outbound address policy are off the hot path (a login; a credential
being saved), so they cost it nothing.

    python -m bench.hostile_input_overhead [--requests 100000] [--rounds 5]
"""

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_service.http.body_limit import BodyLimitMiddleware
from gateway_service.http.error_boundary import ErrorBoundaryMiddleware
from gateway_service.http.text_guard import TextGuardMiddleware

BODY = (Path(__file__).parent / "wrk" / "generation.json").read_bytes()
ACCEPTED = b'{"request_id":"0190a0a0-0000-7000-8000-000000000000","status":"accepted"}'


async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the body as the endpoint would, answers 202."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": ACCEPTED})


def before() -> ASGIApp:
    return BodyLimitMiddleware(endpoint, max_bytes=1024 * 1024)


def now() -> ASGIApp:
    inner = BodyLimitMiddleware(TextGuardMiddleware(endpoint), max_bytes=1024 * 1024)
    return ErrorBoundaryMiddleware(inner)


REQUESTS: dict[str, tuple[dict[str, Any], bytes]] = {
    "POST /v1/generations": (
        {
            "method": "POST",
            "path": "/v1/generations",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"authorization", b"Bearer na_12345678_" + b"s" * 43),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode()),
            ],
        },
        BODY,
    ),
    "GET /v1/search?q=…": (
        {
            "method": "GET",
            "path": "/v1/search",
            "query_string": b"q=how+do+I+make+an+index+without+blocking+writes&mode=hybrid",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", b"Bearer x")],
        },
        b"",
    ),
}


async def serve(app: ASGIApp, template: dict[str, Any], body: bytes, count: int) -> float:
    """CPU seconds to serve `count` requests."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        return None

    started = time.process_time()
    for _ in range(count):
        scope = {"type": "http", "state": {}, **template}
        await app(scope, receive, send)
    return time.process_time() - started


async def measure(requests: int, rounds: int) -> None:
    apps = {"before": before(), "now": now()}
    for name, (template, body) in REQUESTS.items():
        per_request: dict[str, list[float]] = {"before": [], "now": []}
        for _ in range(rounds):
            for label, app in apps.items():  # alternated: both see the same machine
                seconds = await serve(app, template, body, requests)
                per_request[label].append(seconds / requests * 1e6)
        medians = {label: statistics.median(values) for label, values in per_request.items()}
        rows = "  ".join(
            f"{label} {medians[label]:.2f} µs ({', '.join(f'{v:.2f}' for v in values)})"
            for label, values in per_request.items()
        )
        print(f"{name}: {rows}; added {medians['now'] - medians['before']:.2f} µs/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.requests, args.rounds))


if __name__ == "__main__":
    main()
