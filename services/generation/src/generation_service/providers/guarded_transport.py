"""The HTTP transport of the provider SDKs: every connection checked against the outbound
address policy, made to the very address that was checked (no DNS-rebinding window). TLS still
verifies the certificate against the URL's host. The official SDKs use httpx2 and httpcore2."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

from assistant_runtime.outbound import OutboundPolicy, OutboundRefused


class _GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, to the very address it checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            addresses = await self._policy.resolve(host, port)
        except OutboundRefused as refused:
            raise httpcore2.ConnectError(str(refused)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("connections to Unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport, its connection pool given the guarded network backend (httpx2 has no
    parameter for one; the pool is httpcore2's public class, built as httpx2 builds it)."""

    def __init__(self, policy: OutboundPolicy, limits: httpx2.Limits | None = None) -> None:
        limits = limits or httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
        super().__init__(limits=limits)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )
