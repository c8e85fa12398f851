"""The provider SDKs' transport connects only where the outbound policy allows, redirects
included: a server that is allowed cannot send the client on to one that is not."""

import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from assistant_runtime.outbound import OutboundPolicy
from generation_service.providers.guarded_transport import GuardedTransport


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 that answers, or redirects to 127.0.0.2 (loopback too)."""

    async def ok(_: object) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def away(_: object) -> RedirectResponse:
        return RedirectResponse(f"http://127.0.0.2:{port}/ok")

    app = Starlette(routes=[Route("/ok", ok), Route("/away", away)])
    config = uvicorn.Config(app, host="0.0.0.0", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield port
    server.should_exit = True
    thread.join(5)


def client(policy: OutboundPolicy) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=GuardedTransport(policy), follow_redirects=True)


async def test_an_allowed_address_is_reached(server: int) -> None:
    async with client(OutboundPolicy(["127.0.0.1/32"], allow_http=True)) as http:
        response = await http.get(f"http://127.0.0.1:{server}/ok")
    assert response.json() == {"ok": True}


async def test_the_default_policy_refuses_a_local_server_before_connecting(server: int) -> None:
    async with client(OutboundPolicy(allow_http=True)) as http:
        with pytest.raises(httpx2.ConnectError, match="not public"):
            await http.get(f"http://localhost:{server}/ok")


async def test_a_redirect_to_a_refused_address_is_not_followed_there(server: int) -> None:
    async with client(OutboundPolicy(["127.0.0.1/32"], allow_http=True)) as http:
        with pytest.raises(httpx2.ConnectError, match="not public"):
            await http.get(f"http://127.0.0.1:{server}/away")
