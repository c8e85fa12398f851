"""Each small response reaches the socket in one write; a streamed one chunk by chunk."""

import asyncio
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from uvicorn.server import ServerState

from assistant_runtime.http_protocol import OneSendHttpProtocol

GET = b"GET /%s HTTP/1.1\r\nHost: test\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    """What reached the socket, write by write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 8000) if name in ("sockname", "peername") else default

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def serving(app: Starlette) -> tuple[OneSendHttpProtocol, RecordingTransport]:
    config = uvicorn.Config(app, http=OneSendHttpProtocol, log_config=None, lifespan="off")
    protocol = OneSendHttpProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def settled() -> None:
    for _ in range(20):  # the request's task, the app's awaits, the flush after them
        await asyncio.sleep(0)


async def test_a_small_response_is_one_write() -> None:
    async def small(_request: Request) -> JSONResponse:
        return JSONResponse({"answer": 42}, status_code=202)

    protocol, transport = serving(Starlette(routes=[Route("/small", small)]))
    protocol.data_received(GET % b"small")
    await settled()
    assert len(transport.writes) == 1
    [written] = transport.writes
    assert written.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert written.endswith(b'\r\n\r\n{"answer":42}')


async def test_a_streamed_response_sends_each_chunk_as_it_is_made() -> None:
    more = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first"
        await more.wait()
        yield b"second"

    async def stream(_request: Request) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    protocol, transport = serving(Starlette(routes=[Route("/stream", stream)]))
    protocol.data_received(GET % b"stream")
    await settled()
    sent = b"".join(transport.writes)
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n")
    assert sent.endswith(b"5\r\nfirst\r\n")  # out before the stream goes on
    more.set()
    await settled()
    assert b"".join(transport.writes).endswith(b"6\r\nsecond\r\n0\r\n\r\n")


async def test_what_was_written_before_a_close_is_still_sent() -> None:
    async def unused(_request: Request) -> JSONResponse:
        raise AssertionError

    protocol, transport = serving(Starlette(routes=[Route("/", unused)]))
    protocol.transport.write(b"owed")
    protocol.transport.close()
    assert transport.writes == [b"owed"]
    assert transport.closed
