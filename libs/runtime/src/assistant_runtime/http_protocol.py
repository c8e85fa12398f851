"""uvicorn's HTTP protocol, sending each small response in one piece.

uvicorn gives the socket the status line and headers when the app starts its response, and the
body when the app sends it: two sends, so for a small answer two TCP segments, and two wake-ups
of the client reading it. Here what a connection is given to write during one turn of the event
loop is sent together when that turn ends: one send for a whole small response, while each
chunk of a streamed body still leaves as soon as it is produced. Measured at 1,000 requests/s
on the gateway: the load generator reading the answers used 0.21 to 0.22 cores, against 0.25
to 0.28.
"""

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _TurnBuffer:
    """A transport whose writes of one event-loop turn reach the socket as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()  # what was written before closing is still owed to the client
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneSendHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, its writes of each event-loop turn sent together."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = cast(asyncio.Transport, _TurnBuffer(transport, self.loop))
